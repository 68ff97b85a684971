"""Issue 14 figures: /healthz latency under a login flood, 500s over a hostile-input corpus, what is refused.

    /work/main/.venv/bin/python bench/bench_security.py [--seconds 20] [--no-write]

Serves the real app with waitress (16 threads, as run.py) on 127.0.0.1 in this process; attackers are
threads posting wrong logins, from one loopback address or spread over 20 (127.0.0.x); a poller
times /healthz throughout. The corpus goes through Flask's test client (same app, no network).
Writes the "Issue 14: security" section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import http.client
import io
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from common import REPO, machine_line, replace_section

sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "security"))

from conftest import test_config  # noqa: E402
from served import Served  # noqa: E402

from app import create_app, db  # noqa: E402
from app.database import upgrade_database  # noqa: E402
from app.models import Course, Teacher  # noqa: E402
from config import Config  # noqa: E402

from corpus import hostile_requests  # noqa: E402

log = logging.getLogger("bench_security")
PASSWORD = "correct horse"


def build_app(work: Path):
    """A fresh app with one teacher (ada@example.com) and one course; limits as shipped in config.py."""
    overrides = test_config(work)
    for key in ("LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS", "SIGNUP_LIMIT_PER_ADDRESS"):
        overrides[key] = getattr(Config, key)
    app = create_app(Config, overrides)
    upgrade_database(app)
    client = app.test_client()
    client.post("/auth/signup", data={"name": "Ada", "email": "ada@example.com", "password": PASSWORD,
                                      "confirm": PASSWORD})
    return app


def post_login(port: int, email: str, source: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        conn.request("POST", "/auth/login", body=urlencode({"email": email, "password": "wrong guess"}),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return -1
    finally:
        conn.close()


def flood(app, seconds: float, attackers: int, addresses: int) -> dict:
    """Wrong logins from `attackers` threads for `seconds`, spread over `addresses` loopback addresses."""
    statuses: Counter[int] = Counter()
    health: list[float] = []
    health_bad = Counter()
    with Served(app, threads=16) as served:
        stop = threading.Event()

        def attack(i: int) -> None:
            source = f"127.0.0.{2 + i % addresses}"
            email = "ada@example.com" if addresses == 1 else f"user{i % addresses}@example.com"
            while not stop.is_set():
                statuses[post_login(served.port, email, source)] += 1

        def poll() -> None:
            while not stop.is_set():
                status, _h, _b, took = served.request("GET", "/healthz", timeout=60)
                health.append(took)
                if status != 200:
                    health_bad[status] += 1
                time.sleep(0.05)

        threads = [threading.Thread(target=attack, args=(i,)) for i in range(attackers)]
        threads.append(threading.Thread(target=poll))
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(90)
    q = statistics.quantiles(health, n=20) if len(health) >= 20 else [max(health)] * 19
    return {"attempts": sum(statuses.values()), "statuses": dict(sorted(statuses.items())),
            "health_n": len(health), "health_p50": statistics.median(health), "health_p95": q[18],
            "health_max": max(health), "health_errors": dict(health_bad)}


def run_corpus(app) -> tuple[Counter, list[str], list[tuple[str, int, str]]]:
    """Every hostile request once; returns status counts, the 500s, and the refusal rows."""
    client = app.test_client()
    client.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD})
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    refusals: list[tuple[str, int, str]] = []
    for item in hostile_requests(app):
        response = (app.test_client() if item.anonymous else client).open(item.path, method=item.method, data=item.data, query_string=item.query,
                               content_type=item.content_type, headers=item.headers, follow_redirects=item.follow)
        body = response.get_data().decode("utf-8", "replace")  # exports are binary
        response.close()
        statuses[response.status_code] += 1
        if response.status_code >= 500 and response.status_code != 507:
            errors.append(f"{item.method} {item.path} {item.label}: {response.status_code}")
        if item.refusal:
            refusals.append((item.label, response.status_code, item.explain(body, response)))
        if item.relogin:
            client.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD})
    return statuses, errors, refusals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each flood")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("app.auth.service").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        rows = []
        for label, attackers, addresses in (("quiet (no flood)", 0, 1), ("20 attackers, 1 address, 1 account", 20, 1),
                                            ("20 attackers, 20 addresses, 20 accounts", 20, 20)):
            app = build_app(base / f"flood{len(rows)}")
            result = flood(app, args.seconds, attackers, addresses)
            rows.append((label, result))
            print(label, result, flush=True)
            with app.app_context():
                db.engine.dispose()
        app = build_app(base / "corpus")
        statuses, errors, refusals = run_corpus(app)
        print("corpus", dict(statuses), errors, flush=True)
    body = render(rows, statuses, errors, refusals, args.seconds)
    print(body)
    if not args.no_write:
        replace_section("bench_security", "Issue 14: security", body)


def render(rows, statuses, errors, refusals, seconds) -> str:
    lines = [f"Measured under load (2 shared cores, other helpers' jobs running): {machine_line()}.",
             f"Reproduce: `/work/main/.venv/bin/python bench/bench_security.py --seconds {seconds:g}`.", "",
             "### /healthz while wrong logins flood in (waitress, 16 threads, limits as shipped in config.py)", "",
             "| scenario | login attempts | answers (status: count) | /healthz polls | p50 | p95 | max | /healthz errors |",
             "|---|---|---|---|---|---|---|---|"]
    for label, r in rows:
        answers = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items()) or "-"
        lines.append(f"| {label} | {r['attempts']} | {answers} | {r['health_n']} | {1000 * r['health_p50']:.0f} ms | "
                     f"{1000 * r['health_p95']:.0f} ms | {1000 * r['health_max']:.0f} ms | {r['health_errors'] or 0} |")
    lines += ["", "Target p95 < 1 s (before this issue: 25-28 s, and a 500 when the connection pool ran out). "
              "Login attempts per account and per address are limited (10/min per account, 60/min per address) "
              "and at most 4 password hashes run at once (LOGIN_MAX_CONCURRENT_CHECKS); refused attempts get 429 + "
              "Retry-After at once, and no request thread sleeps. The price, visible in the last row: while a flood "
              "from many addresses lasts, a real teacher's login may also get a 429 and has to retry.", "",
              f"### Hostile-input corpus: {sum(statuses.values())} requests, "
              f"{len(errors)} answered 500", "",
              "Statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) + ".",
              *(f"- 500: {e}" for e in errors), "",
              "### What is refused, and why (one example of each; message as the teacher sees it)", "",
              "| input | status | answer |", "|---|---|---|"]
    for label, status, why in refusals:
        lines.append(f"| {label} | {status} | {why.replace('|', '/')} |")
    lines += ["", "Also refused, each by a test in tests/security/ (README.md there lists them): an 11th login "
              "attempt a minute on one account or a 61st from one address, and a login while 4 password checks run "
              "(429 + Retry-After); a 4th live view of one session or a 5th of one teacher (429); a cookie copied "
              "before logout; a stream URL that redirects; hosts resolving to several addresses of which one is "
              "private; a start on a camera another session uses (without naming that session's source).", "",
              "Peak memory of the worst upload (decode limits) is measured by issue 11's benchmark (h11)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
