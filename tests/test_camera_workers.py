"""A school's cameras: two `flask camera-worker` processes, one killed mid-session, the session resumed by
the other within 10 s with every student marked once; the live page served by web apps that run no camera;
Stop in the browser reaching the worker that holds the session."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import ON_POSTGRES, needs_datasets, needs_detector
from redis_server import forget_redis, needs_redis, process_env, use_redis
from sqlalchemy import select
from test_attendance_web import login

from app import create_app, db
from app.attendance.camera_service import camera_service
from app.attendance.live_relay import RemoteCamera
from app.models import AttendanceRecord, AttendanceSession
from config import BASE_DIR, Config
from live_media import PEOPLE, UNKNOWN, live_app, scene_frames, seed_course, sink, write_video  # noqa: F401

# A school's processes share PostgreSQL (docs/DEPLOY.md); a minute of CPU, so only `make test`'s
# PostgreSQL pass runs this (CI always does).
on_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="camera-worker processes are tested on PostgreSQL only "
                                 "(set ROLLCALL_TEST_DATABASE_URL; make test's second pass does)")
pytestmark = [needs_redis, needs_datasets, needs_detector, on_postgres]

# Camera processes read videos paced as a camera would deliver them (8 fps: the session lasts ~11 s).
CAMERA_ENV = {"CAMERA_DETECT_EVERY": "1", "CAMERA_VIDEO_REALTIME": "1", "CAMERA_EMBED_PROCESS": "0"}
TAKEOVER_LIMIT = 10.0


@pytest.fixture
def school(live_app):  # noqa: F811
    use_redis(live_app, "rollcall-cam-test")
    yield live_app
    forget_redis(live_app)


def _wait(predicate, timeout: float, step: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def _session(app, session_id: int) -> AttendanceSession:
    with app.app_context():
        session = db.session.get(AttendanceSession, session_id)
        db.session.expunge(session)
        db.session.remove()
    return session


def _camera_worker(app, log_path):
    with log_path.open("w") as log:  # the child keeps its own copy of the file descriptor
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "run", "camera-worker", "--max-sessions",
                                 "2"], cwd=BASE_DIR, env=process_env(app, **CAMERA_ENV), stdout=log,
                                stderr=subprocess.STDOUT)


def _holder(app, session_id: int) -> int | None:
    claimed = _session(app, session_id).claimed_by
    return int(claimed.rsplit(":", 1)[1]) if claimed else None


def test_a_killed_camera_worker_s_session_resumes_on_another_nothing_lost_or_doubled(school, tmp_path):
    app = school
    teacher_id, course_id = seed_course(app)
    video = write_video(tmp_path / "class.avi", scene_frames(PEOPLE[:3] + [UNKNOWN], frames_each=12), fps=5.0)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [_camera_worker(app, log) for log in logs]
    try:
        for log in logs:  # both up before the session starts, so the kill falls mid-session
            assert _wait(lambda: "up to 2 session(s)" in log.read_text(), 120), log.read_text()[-2000:]
        with app.app_context():
            session_id = camera_service(app).start(course_id, str(video))
        assert camera_service(app).worker(session_id) is None  # the web app runs no camera in a school
        holder = _wait(lambda: _holder(app, session_id), 30)
        first, second = sorted(workers, key=lambda proc: proc.pid != holder)
        assert first.pid == holder
        assert _wait(lambda: RemoteCamera(app, session_id).stats().get("frames", 0) >= 5, 30)
        # Two web apps, neither running the camera, serve the same live page from Redis.
        other = create_app(Config, {**app.config, "START_BACKGROUND": False})
        for web in (app, other):
            client = web.test_client()
            login(client, teacher_id)
            assert client.get(f"/attendance/{session_id}/status").get_json()["camera"]["frames"] > 0
            response = client.get(f"/attendance/{session_id}/stream", buffered=False)
            assert b"Content-Type: image/jpeg" in next(iter(response.response))
            response.close()
        with other.app_context():
            db.engine.dispose()  # the second app's connections (PostgreSQL warns about open ones)
        assert _session(app, session_id).status == "running"
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        assert _wait(lambda: _holder(app, session_id) == second.pid, 30)
        takeover = time.monotonic() - killed_at
        print(f"session resumed on the other worker {takeover:.1f} s after the kill")
        assert takeover < TAKEOVER_LIMIT, takeover
        assert _wait(lambda: _session(app, session_id).status != "running", 120)
        session = _session(app, session_id)
        assert session.status == "ended" and session.status_message == "the video ended"
        with app.app_context():
            marked = db.session.scalars(select(AttendanceRecord.student_id)
                                        .where(AttendanceRecord.session_id == session_id)).all()
        assert sorted(marked) == [1, 2, 3]  # what the single-process run marks (tests/test_recorder.py)

        # Stop in the browser reaches the worker holding the session.
        with app.app_context():
            stopped_id = camera_service(app).start(course_id, str(video))
        assert _wait(lambda: _holder(app, stopped_id) == second.pid, 30)
        assert _wait(lambda: RemoteCamera(app, stopped_id).is_alive(), 30)
        client = app.test_client()
        login(client, teacher_id)
        assert client.post(f"/attendance/{stopped_id}/stop").status_code == 302
        assert _session(app, stopped_id).status_message == "stopped by the teacher"
        # The worker stopped its camera (it publishes its last counters), well before the video's end.
        assert _wait(lambda: RemoteCamera(app, stopped_id).stats().get("message") == "stopped", 15)
        assert not RemoteCamera(app, stopped_id).is_alive()
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert "released 0 session(s)" in logs[workers.index(second)].read_text()
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
