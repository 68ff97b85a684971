"""Promise 3: a teacher-typed camera address cannot reach the server's own network (SSRF). Cameras come
from IT's list (CAMERA_ALLOWED_HOSTS); anything else is resolved and refused when it is loopback,
link-local, private, multicast or unspecified; the checked address is the one opened; redirects are not
followed; and the camera is opened by the worker thread, so Start returns at once ("connecting")."""
from __future__ import annotations

import functools
import http.server
import socket
import threading
import time

import cv2
import numpy as np
import pytest
from conftest import needs_datasets, needs_detector

from app.attendance.camera_service import camera_service
from app.attendance.service import AttendanceError
from app.attendance.sources import source_from_form
from app.vision.addresses import AddressRefused, check_camera_url
from app.vision.sources import CaptureSource, SourceError

REFUSED = [
    ("http://127.0.0.1/video", "loopback"),
    ("rtsp://127.0.0.1:554/stream", "loopback"),
    ("http://localhost:8080/", "loopback"),  # a name that resolves to loopback
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.1.2.3/mjpg", "private network"),
    ("http://192.168.0.10/mjpg", "private network"),
    ("http://172.16.5.4/", "private network"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://2130706433/", "loopback"),  # 127.0.0.1 written as one decimal number
    ("http://0x7f000001/", "loopback"),  # ... as hex
    ("http://0177.0.0.1/", "loopback"),  # ... as octal
    ("http://127.1/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("rtsp://224.0.0.1/", "multicast"),
    ("http://user:pw@127.0.0.1/", "loopback"),
]


@pytest.mark.parametrize("url, why", REFUSED)
def test_internal_addresses_are_refused_with_a_clear_message(url, why):
    with pytest.raises(AddressRefused) as refused:
        check_camera_url(url, allowed="", allow_public=True)
    assert why in str(refused.value) and "CAMERA_ALLOWED_HOSTS" in str(refused.value)
    assert "pw" not in str(refused.value)


def test_unknown_hosts_and_public_hosts_without_permission_are_refused():
    with pytest.raises(AddressRefused, match="cannot find"):
        check_camera_url("rtsp://no-such-camera.invalid/stream")
    with pytest.raises(AddressRefused, match="not on the list"):
        check_camera_url("rtsp://cam.example.org/s", resolver=lambda host, port: ["93.184.216.34"])


def test_hosts_it_allows_pass_private_addresses_included():
    assert check_camera_url("rtsp://cam1.school.lan/live", allowed="cam1.school.lan",
                            resolver=lambda h, p: pytest.fail("a listed name is not re-resolved")) == \
        "rtsp://cam1.school.lan/live"
    assert check_camera_url("rtsp://room-4.cams.school.lan/live", allowed=".cams.school.lan") == \
        "rtsp://room-4.cams.school.lan/live"
    # A network on the list: the host is resolved and the address checked is the one opened.
    assert check_camera_url("rtsp://u:p@cam7:8554/s?x=1", allowed="10.20.0.0/24",
                            resolver=lambda h, p: ["10.20.0.7"]) == "rtsp://u:p@10.20.0.7:8554/s?x=1"
    assert check_camera_url("http://127.0.0.1:8080/v", allowed=["127.0.0.1"]) == "http://127.0.0.1:8080/v"


def test_public_cameras_are_pinned_to_the_checked_address():
    """DNS rebinding: the host is opened at the address that was judged, not looked up again."""
    url = check_camera_url("https://cam.example.org/mjpg", allow_public=True,
                           resolver=lambda h, p: ["93.184.216.34"])
    assert url == "https://93.184.216.34/mjpg"
    # One public and one private answer: refused (the camera loop could get either).
    with pytest.raises(AddressRefused, match="private"):
        check_camera_url("https://cam.example.org/", allow_public=True,
                         resolver=lambda h, p: ["93.184.216.34", "10.0.0.5"])


def test_the_start_form_refuses_before_anything_is_opened(app):
    for url in ("http://169.254.169.254/", "http://localhost/", "rtsp://10.0.0.8/"):
        with pytest.raises(AttendanceError, match="CAMERA_ALLOWED_HOSTS"):
            source_from_form({"source_kind": "url", "url": url}, None, app.config)
    app.config["CAMERA_ALLOWED_HOSTS"] = "10.0.0.8"
    assert source_from_form({"source_kind": "url", "url": "rtsp://10.0.0.8/"}, None, app.config) == "rtsp://10.0.0.8/"


@pytest.fixture
def video_server(tmp_path):
    """A real HTTP server with a video and a /redirect that points at it."""
    writer = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(20):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/v.avi")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_redirects_are_not_followed(video_server):
    direct = CaptureSource(f"{video_server}/v.avi", live=True)
    direct.open()  # the same server, no redirect: opens (so the refusal below is about the redirect)
    direct.close()
    with pytest.raises(SourceError, match="cannot open camera"):
        CaptureSource(f"{video_server}/redirect", live=True).open()


def test_webcam_numbers_must_be_ascii_digits(app):
    for index in ("²", "١", "0x1", "-1", "1.0", "100"):
        with pytest.raises(AttendanceError, match="whole number"):
            source_from_form({"source_kind": "webcam", "webcam_index": index}, None, app.config)
    assert source_from_form({"source_kind": "webcam", "webcam_index": "2"}, None, app.config) == "2"


@needs_datasets
@needs_detector
def test_start_returns_at_once_and_the_camera_connects_in_the_worker(tmp_path):
    """A camera that accepts the connection and never answers: Start is fast, then connecting -> offline."""
    from conftest import test_config
    from live_media import seed_course

    from app import create_app, db
    from app.database import upgrade_database
    from config import Config

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections queue up, nothing is ever sent back
    app = create_app(Config, test_config(tmp_path, CAMERA_ALLOWED_HOSTS="127.0.0.1"))
    upgrade_database(app)
    teacher_id, course_id = seed_course(app)
    service = camera_service(app)
    try:
        with app.app_context():
            started = time.perf_counter()
            session_id = service.start(course_id, f"http://127.0.0.1:{silent.getsockname()[1]}/mjpg", teacher_id)
            assert time.perf_counter() - started < 2.0  # the old code held the request for the 5 s timeout
            worker = service.worker(session_id)
            assert worker.stats()["status"] in ("starting", "connecting")
            deadline = time.monotonic() + 30
            while worker.stats()["status"] != "offline" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert worker.stats()["status"] == "offline" and "cannot open camera" in worker.stats()["message"]
    finally:
        service.stop_all()
        silent.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@needs_datasets
@needs_detector
def test_busy_camera_message_does_not_name_the_other_teachers_source(tmp_path):
    from conftest import test_config
    from live_media import PEOPLE, scene_frames, seed_course, write_video

    from app import create_app, db
    from app.database import upgrade_database
    from config import Config

    app = create_app(Config, test_config(tmp_path))
    upgrade_database(app)
    a_teacher, a_course = seed_course(app, "a@example.org")
    video = write_video(tmp_path / "videos" / "teacher-a-secret-lesson.avi", scene_frames(PEOPLE[:1], frames_each=300))
    service = camera_service(app)
    try:
        with app.app_context():
            from app.models import Course, Teacher
            from app.pipeline import recognizer_path
            from live_media import trained

            b = Course(teacher=Teacher(name="B", email="b@example.org", password_hash="x"), name="Chemistry",
                       recognizer_version=1)
            db.session.add(b)
            db.session.commit()
            b_teacher, b_course = b.teacher_id, b.id
            trained().save(recognizer_path(app.config, b_course, 1))
            service.start(a_course, str(video), a_teacher)
            with pytest.raises(AttendanceError) as busy:
                service.start(b_course, str(video), b_teacher)
            assert "already taking attendance" in str(busy.value) and "secret" not in str(busy.value)
    finally:
        service.stop_all()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
