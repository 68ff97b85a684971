"""Promise 5: the live view cannot use up the server's threads. MJPEG viewers are capped per session and
per teacher (CAMERA_MAX_VIEWERS_*); extra viewers get a 429 at once, a closed viewer frees its place, and
the rest of the app stays responsive meanwhile. Served for real by waitress with 16 threads."""
from __future__ import annotations

import http.client
import time

import pytest
from conftest import needs_datasets, needs_detector, test_config
from served import Served

from app import create_app, db
from app.attendance.camera_service import camera_service
from app.attendance.viewers import viewer_limits
from app.database import upgrade_database
from app.models import Teacher
from config import Config

pytestmark = [needs_datasets, needs_detector, pytest.mark.slow]


@pytest.fixture
def live(tmp_path):
    from live_media import PEOPLE, scene_frames, seed_course, write_video

    app = create_app(Config, test_config(tmp_path, CAMERA_MAX_VIEWERS_PER_SESSION=3, CAMERA_MAX_VIEWERS_PER_TEACHER=4))
    upgrade_database(app)
    teacher_id, course_id = seed_course(app)
    # 4 fps played in real time: 90 s of camera from few frames, so no stream ends during the test.
    video = write_video(tmp_path / "videos" / "room.avi", scene_frames(PEOPLE[:2], frames_each=180), fps=4.0)
    copy = write_video(tmp_path / "videos" / "room2.avi", scene_frames(PEOPLE[:1], frames_each=360), fps=4.0)
    service = camera_service(app)
    with app.app_context():
        sessions = [service.start(course_id, str(video), teacher_id), service.start(course_id, str(copy), teacher_id)]
        cookie_value = db.session.get(Teacher, teacher_id).get_id()
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = cookie_value, True
    cookie = f"session={client.get_cookie('session').value}"
    yield app, sessions, cookie
    service.stop_all()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _open_stream(port: int, session_id: int, cookie: str) -> tuple[int, http.client.HTTPResponse]:
    """A viewer: the open response (it owns the socket of a streamed answer; close() it to leave)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/attendance/{session_id}/stream", headers={"Cookie": cookie})
    response = conn.getresponse()
    if response.status == 200:
        assert response.read(200).startswith(b"--frame")  # a real frame is flowing
    else:
        response.read()
        conn.close()  # a refused viewer's connection is kept alive by the server: close ours
    return response.status, response


def _wait_until(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_viewers_are_capped_per_session_and_per_teacher(live):
    app, (s1, s2), cookie = live
    limits = viewer_limits(app.extensions)
    with Served(app, threads=16) as served:
        opened = [_open_stream(served.port, s1, cookie) for _ in range(3)]
        assert [status for status, _ in opened] == [200, 200, 200]
        time.sleep(1.0)
        assert limits.open_streams(s1) == 3  # still watching (frames keep flowing)
        status, extra = _open_stream(served.port, s1, cookie)
        assert status == 429  # a 4th viewer of one session
        extra.close()
        # The app still answers at once while 3 streams run.
        status, _h, _b, seconds = served.request("GET", "/healthz")
        assert status == 200 and seconds < 2.0
        other, viewer = _open_stream(served.port, s2, cookie)
        assert other == 200  # the teacher's 4th viewer, on another session
        status, extra = _open_stream(served.port, s2, cookie)
        assert status == 429  # the teacher's 5th
        extra.close()
        # Closing a viewer frees its place.
        opened[0][1].close()
        assert _wait_until(lambda: limits.open_streams(s1) == 2)
        status, again = _open_stream(served.port, s1, cookie)
        assert status == 200
        for c in [again, viewer] + [c for _, c in opened[1:]]:
            c.close()
        assert _wait_until(lambda: limits.open_streams(s1) == 0 and limits.open_streams(s2) == 0)


def test_refused_viewer_gets_retry_after(live):
    app, (s1, _s2), cookie = live
    app.config["CAMERA_MAX_VIEWERS_PER_SESSION"] = 0
    client = app.test_client()
    client.set_cookie("session", cookie.split("=", 1)[1])
    response = client.get(f"/attendance/{s1}/stream")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
