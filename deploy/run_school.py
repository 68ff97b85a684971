"""`make run-school`: a school's process model on one machine, for development (docs/DEPLOY.md).

Two web processes sharing one listening socket (bound here, inherited), one job worker and two camera
workers, all against PostgreSQL and Redis. Ctrl-C or SIGTERM stops them in order: web first (no new
Start), then the camera workers (they hand their sessions back), then the job worker (it finishes
its current job). A process that dies is started again after a short pause, as systemd would.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "run"]
# name -> command, in start order; stop runs in the same order (web first).
PROCESSES = {
    "web-1": [sys.executable, "run.py"],
    "web-2": [sys.executable, "run.py"],
    "camera-1": [*FLASK, "camera-worker"],
    "camera-2": [*FLASK, "camera-worker"],
    "jobs": [*FLASK, "worker"],
}
RESTART_SECONDS = 2.0
STOP_SECONDS = 40.0

log = logging.getLogger("run_school")


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.create_server((host, port), reuse_port=False)
    sock.set_inheritable(True)
    return sock


def _start(name: str, env: dict[str, str], sock: socket.socket) -> subprocess.Popen:
    child_env = {**env, "ROLLCALL_LISTEN_FD": str(sock.fileno())} if name.startswith("web") else env
    # A session of its own: Ctrl-C reaches only this supervisor, which stops the children in order.
    proc = subprocess.Popen(PROCESSES[name], cwd=ROOT, env=child_env, start_new_session=True,
                            pass_fds=(sock.fileno(),) if name.startswith("web") else ())
    log.info("%s started (pid %d)", name, proc.pid)
    return proc


def prepare_database(env: dict[str, str]) -> None:
    """Create the PostgreSQL database if it is missing, then migrate it (what `make db` does for SQLite)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(env["DATABASE_URL"])
    if url.get_backend_name() == "postgresql":
        with psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
                             password=url.password, dbname="postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{url.database}"')
                log.info("created database %s", url.database)
    subprocess.run([*FLASK, "init-db"], cwd=ROOT, env=env, check=True)


def main() -> int:
    """Start every process, restart the ones that die, stop them in order on a signal."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = {**os.environ, "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
           "DATABASE_URL": os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/rollcall")}
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", 5000))
    prepare_database(env)
    sock = _listen(host, port)
    stopping = False

    def _stop(signum: int, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    procs = {name: _start(name, env, sock) for name in PROCESSES}
    log.info("Rollcall (school set-up) on http://%s:%d", host, port)
    while not stopping:
        time.sleep(0.5)
        for name, proc in procs.items():
            if proc.poll() is not None and not stopping:
                log.warning("%s exited with %s; starting it again in %.0f s", name, proc.returncode, RESTART_SECONDS)
                time.sleep(RESTART_SECONDS)
                procs[name] = _start(name, env, sock)
    for name, proc in procs.items():  # in order, each drains before the next is asked
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log.error("%s did not stop in %.0f s; killing it", name, STOP_SECONDS)
                proc.kill()
        log.info("%s stopped (%s)", name, proc.returncode)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
