"""A school's process model under load: 4 camera workers x 1 video, 2 web processes, 1 job worker.

PostgreSQL + Redis (the same servers as the tests). Measures issue 16's targets: marks per session
against a single-process run of the same video (`flask attend`), a camera worker killed mid-session
(seconds until another resumes it, marks lost, duplicates), 50 concurrent clients polling the live
pages on both web processes (p95 response time), and frames per second per room.
`python bench/bench_school.py` writes its section of bench/RESULTS.md.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import REPO, machine_line, replace_section  # puts the repo on sys.path

sys.path.insert(0, str(REPO / "tests"))
from live_media import PEOPLE, UNKNOWN, scene_frames, seed_course, write_video  # noqa: E402
from redis_server import forget_redis, process_env, use_redis  # noqa: E402
from tests.postgres import create_database, drop_test_databases  # noqa: E402

PG_URL = os.environ.get("PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# BENCH_ROOMS / BENCH_CLIENTS vary the load; each combination keeps its own section of RESULTS.md.
ROOMS, CLIENTS = int(os.environ.get("BENCH_ROOMS", 4)), int(os.environ.get("BENCH_CLIENTS", 50))
WEB_PORTS = (5091, 5092)
CAMERA_ENV = {"CAMERA_DETECT_EVERY": "0", "CAMERA_VIDEO_REALTIME": "1", "CAMERA_EMBED_PROCESS": "0"}
FLASK = [sys.executable, "-m", "flask", "--app", "run"]


def _spawn(cmd: list[str], env: dict, log: Path, **extra: str) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(cmd, cwd=REPO, env={**env, **extra}, stdout=out, stderr=subprocess.STDOUT)


def _wait(predicate, timeout: float, step: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := predicate():
            return value
        time.sleep(step)
    return None


def _baseline(env: dict, course_id: int, video: Path) -> dict:
    """What one process marks on the same video (`flask attend`, no Redis): its JSON summary."""
    single = {k: v for k, v in env.items() if k != "REDIS_URL"}
    out = subprocess.run([*FLASK, "attend", "--course", str(course_id), "--source", str(video), "--no-email",
                          "--json"], cwd=REPO, env=single, capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _clients(cookie: str, session_ids: list[int], stop: threading.Event) -> list[float]:
    """CLIENTS threads polling live-page status on both web processes; every response time in ms."""
    times: list[float] = []
    errors = [0]

    def poll(k: int) -> None:
        port, sid = WEB_PORTS[k % 2], session_ids[k % len(session_ids)]
        while not stop.is_set():
            request = urllib.request.Request(f"http://127.0.0.1:{port}/attendance/{sid}/status",
                                             headers={"Cookie": f"session={cookie}"})
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    json.loads(response.read())
                times.append(1000 * (time.perf_counter() - t0))
            except Exception:  # noqa: BLE001  (counted, the run goes on)
                errors[0] += 1
            stop.wait(1.0)  # the live page polls about once a second

    threads = [threading.Thread(target=poll, args=(k,), daemon=True) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(35)
    times.append(-errors[0])  # last item: minus the error count
    return times


def main() -> None:
    """Run the school, kill one camera worker, report."""
    from app import create_app, db
    from app.attendance.camera_service import camera_service
    from app.attendance.live_relay import RemoteCamera
    from app.database import upgrade_database
    from app.models import AttendanceRecord, AttendanceSession, Teacher
    from config import Config
    from sqlalchemy import func, select

    tmp = Path(tempfile.mkdtemp(prefix="bench_school_"))
    procs: list[subprocess.Popen] = []
    url = create_database(PG_URL)
    app = create_app(Config, {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret", "MAIL_ENABLED": False,
                              "START_BACKGROUND": False, "INSTANCE_DIR": str(tmp / "instance"),
                              "DATASET_DIR": str(tmp / "dataset"), "RECOGNIZER_DIR": str(tmp / "models"),
                              "SNAPSHOT_DIR": str(tmp / "snapshots"), "UPLOAD_DIR": str(tmp / "uploads"),
                              "CAMERA_VIDEO_DIR": str(tmp / "videos")})
    use_redis(app, "rollcall-bench-school")
    upgrade_database(app)
    try:
        teacher_id, course_id = seed_course(app)
        frames = scene_frames(PEOPLE[:3] + [UNKNOWN], frames_each=12)
        videos = [write_video(tmp / f"room{i}.avi", frames, fps=5.0) for i in range(ROOMS)]
        env = {**process_env(app, **CAMERA_ENV), "SECRET_KEY": "bench-secret"}
        single = _baseline(env, course_id, videos[0])
        baseline = sorted(single["marked"])
        logs = tmp / "logs"
        logs.mkdir()
        webs = [_spawn([sys.executable, "run.py"], env, logs / f"web{p}.log", PORT=str(p)) for p in WEB_PORTS]
        cams = [_spawn([*FLASK, "camera-worker", "--max-sessions", "2"], env, logs / f"cam{i}.log") for i in range(4)]
        jobs = _spawn([*FLASK, "worker"], env, logs / "jobs.log")
        procs = [*webs, *cams, jobs]
        for log in logs.iterdir():
            assert _wait(lambda: any(s in log.read_text() for s in ("up to 2", "Serving on", "Listening on")), 180), log
        with app.test_client() as client, app.app_context():
            teacher = db.session.get(Teacher, teacher_id)
            with client.session_transaction() as s:
                s["_user_id"], s["_fresh"] = teacher.get_id(), True
            client.get("/")
            cookie = client.get_cookie("session").value
            sessions = [camera_service(app).start(course_id, str(v)) for v in videos]
        stop = threading.Event()
        result: list[list[float]] = []
        loader = threading.Thread(target=lambda: result.append(_clients(cookie, sessions, stop)))
        loader.start()

        def holder(sid: int) -> int | None:
            with app.app_context():
                claimed = db.session.get(AttendanceSession, sid).claimed_by
                db.session.remove()
            return int(claimed.rsplit(":", 1)[1]) if claimed else None

        assert _wait(lambda: all(holder(s) for s in sessions), 60)
        victim_session = sessions[0]
        assert _wait(lambda: RemoteCamera(app, victim_session).stats().get("frames", 0) >= 10, 60)
        victim = next(p for p in cams if p.pid == holder(victim_session))
        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert _wait(lambda: holder(victim_session) not in (None, victim.pid), 60)
        takeover = time.monotonic() - killed

        def ended() -> bool:
            with app.app_context():
                open_ = db.session.scalar(select(func.count()).select_from(AttendanceSession).where(
                    AttendanceSession.id.in_(sessions), AttendanceSession.status == "running"))
                db.session.remove()
            return open_ == 0

        assert _wait(ended, 300)
        stop.set()
        loader.join(60)
        times, errors = result[0][:-1], -int(result[0][-1])
        final = [RemoteCamera(app, s).stats() for s in sessions]
        fps = [f.get("fps") for f in final]
        with app.app_context():
            ends = [(x.status, x.status_message) for x in db.session.scalars(
                select(AttendanceSession).where(AttendanceSession.id.in_(sessions)).order_by(AttendanceSession.id))]
        with app.app_context():
            rows = db.session.execute(select(AttendanceRecord.session_id, AttendanceRecord.student_id)
                                      .where(AttendanceRecord.session_id.in_(sessions))).all()
            rolls = {s.id: s.roll_number for s in db.session.get(AttendanceSession, sessions[0]).course.students}
        marked = {s: sorted(rolls[st] for sid, st in rows if sid == s) for s in sessions}
        duplicates = len(rows) - len(set(rows))
        lost = sum(len(set(baseline) - set(m)) for m in marked.values())
        p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
        counts = "; ".join(f"{f.get('frames')}/{f.get('frames_analysed')}/{f.get('dropped_frames')}" for f in final)
        seen = "; ".join(f"{f.get('faces_seen')}/{f.get('marked')}" for f in final)
        body = "\n".join([
            f"Measured {machine_line()} (the load average says how busy the machine was).",
            "",
            f"`BENCH_ROOMS={ROOMS} BENCH_CLIENTS={CLIENTS} python bench/bench_school.py`: 4 camera workers "
            f"(`--max-sessions 2`), {ROOMS} rooms of 1 video each "
            f"(17.6 s at 5 fps, 3 students + 1 stranger, paced like a camera), 2 web processes, 1 job worker, "
            "PostgreSQL + Redis, {CLIENTS} clients polling the live pages' status once a second on both web processes.".replace(
                "{CLIENTS}", str(CLIENTS)),
            "",
            "| measure | result |",
            "|---|---|",
            f"| single-process run of the same video (`flask attend`, alone) marks | {', '.join(baseline)} "
            f"(frames read/analysed {single['frames']}/{single['frames_analysed']}) |",
            f"| each session marks | {'; '.join(', '.join(m) for m in marked.values())} |",
            f"| marks lost against the single-process run / duplicates | {lost} / {duplicates} |",
            f"| camera worker killed (SIGKILL) at frame >= 10: session resumed on another after | {takeover:.1f} s |",
            f"| status requests / errors | {len(times)} / {errors} |",
            f"| status response time median / p95 / max | {statistics.median(times):.0f} / {p95:.0f} / {max(times):.0f} ms |",
            f"| fps per room (last counters; the resumed room's are its second run) | {', '.join(str(f) for f in fps)} |",
            f"| frames read / analysed / dropped per room | {counts} |",
            f"| faces seen / students marked by the worker per room | {seen} |",
            f"| sessions ended as | {'; '.join(f'{a} ({b})' for a, b in ends)} |",
        ])
        print(body)
        replace_section(f"bench_school_{ROOMS}x{CLIENTS}",
                        f"Issue 16: a school's processes, {ROOMS} rooms and {CLIENTS} page clients (bench_school.py)", body)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                proc.kill()
        forget_redis(app)
        with app.app_context():
            db.engine.dispose()
        drop_test_databases(PG_URL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
