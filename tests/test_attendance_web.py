"""Attendance pages: start (webcam/URL/video), refusals, live page, status JSON, MJPEG, stop; settings."""
from __future__ import annotations

import io
import threading

import pytest
from conftest import needs_datasets, needs_detector, test_config
from sqlalchemy import func, select

from app import create_app, db
from app.attendance.camera_service import camera_service
from app.background import start_background
from app.database import upgrade_database
from app.models import AttendanceSession, OutboxMessage, Teacher
from config import Config
from live_media import PEOPLE, scene_frames, seed_course, wait_for, write_video


@pytest.fixture
def web_app(tmp_path):
    # Real-time video like a camera; detection on every processed frame so a loaded CI machine still marks.
    application = create_app(Config, test_config(tmp_path, MAIL_PASSWORD="hunter2-secret", MAIL_USER="bot@example.org",
                                                 CAMERA_DETECT_EVERY=1))
    upgrade_database(application)
    yield application
    if application.extensions.get("background"):
        application.extensions["background"].stop()
    camera_service(application).stop_all()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def login(client, teacher_id: int) -> None:
    with client.application.app_context():
        user_id = db.session.get(Teacher, teacher_id).get_id()  # id and session token
    with client.session_transaction() as s:
        s["_user_id"] = user_id
        s["_fresh"] = True


def sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AttendanceSession.id)))


def test_start_without_trained_recognizer_is_refused_clearly(web_app):
    teacher_id, course_id = seed_course(web_app, trained_version=False)
    client = web_app.test_client()
    login(client, teacher_id)
    page = client.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "Train the recognizer before starting attendance" in page
    r = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "webcam", "webcam_index": "0"},
                    follow_redirects=True)
    assert "no trained recognizer" in r.get_data(as_text=True) and sessions(web_app) == 0


@needs_datasets
def test_unreachable_camera_and_bad_input_leave_no_session(web_app):
    teacher_id, course_id = seed_course(web_app)
    client = web_app.test_client()
    login(client, teacher_id)
    page = client.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "Start Attendance" in page and 'name="webcam_index"' in page
    for data, expected in [
        ({"source_kind": "url", "url": "http://127.0.0.1:9/none.mjpg"}, "loopback address"),  # SSRF guard
        ({"source_kind": "url", "url": "ftp://x"}, "unsupported stream"),
        ({"source_kind": "webcam", "webcam_index": "-1"}, "whole number"),
        ({"source_kind": "video", "video": "../../etc/passwd"}, "listed video"),
        ({"source_kind": "upload", "video_file": (io.BytesIO(b"x"), "notes.txt")}, "not a video"),
    ]:
        r = client.post("/attendance/start", data={"course_id": course_id, **data}, follow_redirects=True,
                        content_type="multipart/form-data")
        assert expected in r.get_data(as_text=True), data
    assert sessions(web_app) == 0


@needs_datasets
@needs_detector
def test_live_session_from_a_video_file(web_app, tmp_path):
    teacher_id, course_id = seed_course(web_app)
    other_id, _ = seed_course_other(web_app)
    video_dir = tmp_path / "videos"
    write_video(video_dir / "room1.avi", scene_frames(PEOPLE[:2], frames_each=60))
    client = web_app.test_client()
    login(client, teacher_id)
    before = set(threading.enumerate())
    background = start_background(web_app, force=True)
    r = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "video", "video": "room1.avi"})
    assert r.status_code == 302 and "/attendance/" in r.headers["Location"]
    session_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    # The same camera cannot run twice.
    r = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "video", "video": "room1.avi"},
                    follow_redirects=True)
    assert "already taking attendance" in r.get_data(as_text=True) and sessions(web_app) == 1
    page = client.get(f"/attendance/{session_id}").get_data(as_text=True)
    assert f"/attendance/{session_id}/stream" in page and "Stop" in page and "room1.avi" in page
    status = client.get(f"/attendance/{session_id}/status").get_json()
    assert {"present", "absent", "unknown", "marked", "camera"} <= set(status)
    assert status["camera"]["status"] in ("starting", "running")
    # Two viewers of the same stream each get a JPEG part.
    for _ in range(2):
        stream = client.get(f"/attendance/{session_id}/stream", buffered=False)
        assert stream.mimetype == "multipart/x-mixed-replace"
        chunk = next(stream.response)
        assert chunk.startswith(b"--frame\r\nContent-Type: image/jpeg") and b"\xff\xd8" in chunk
        stream.close()
    assert wait_for(lambda: client.get(f"/attendance/{session_id}/status").get_json()["present"] >= 1, 60, 0.2)
    marked = client.get(f"/attendance/{session_id}/status").get_json()["marked"][0]
    assert marked["name"] in (f"Student {PEOPLE[0]}", f"Student {PEOPLE[1]}") and marked["snapshot_url"]
    image = client.get(marked["snapshot_url"])
    assert image.status_code == 200 and image.data.startswith(b"\xff\xd8")
    image.close()
    assert client.get(f"/attendance/{session_id}/snapshots/..%2Frollcall.sqlite").status_code == 404
    assert marked["name"] in client.get(f"/attendance/{session_id}").get_data(as_text=True)
    # Someone else's session is not found.
    login(client, other_id)
    assert client.get(f"/attendance/{session_id}/status").status_code == 404
    assert client.post(f"/attendance/{session_id}/stop").status_code == 404
    login(client, teacher_id)
    r = client.post(f"/attendance/{session_id}/stop", follow_redirects=True)
    assert "Attendance stopped" in r.get_data(as_text=True)
    with web_app.app_context():
        session = db.session.get(AttendanceSession, session_id)
        assert session.status == "ended" and session.frames > 0
    assert not camera_service(web_app).worker(session_id).is_alive()
    background.stop()
    assert set(threading.enumerate()) <= before
    assert "room1.avi" in client.get("/attendance/").get_data(as_text=True)


def seed_course_other(app) -> tuple[int, int]:
    with app.app_context():
        other = Teacher(name="Other", email="other@example.org", password_hash="x")
        db.session.add(other)
        db.session.commit()
        return other.id, 0


def test_settings_show_mail_without_secrets_and_queue_a_test_email(web_app):
    teacher_id, _ = seed_course(web_app, trained_version=False)
    client = web_app.test_client()
    login(client, teacher_id)
    page = client.get("/settings/").get_data(as_text=True)
    assert "bot@example.org" in page and "password set" in page and "hunter2-secret" not in page
    r = client.post("/settings/test-email", follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "Test email queued" in text and "Rollcall test email" in text and "pending" in text
    with web_app.app_context():
        (msg,) = db.session.scalars(select(OutboxMessage)).all()
        assert msg.to == "teacher@example.org" and msg.teacher_id == teacher_id


def test_pages_need_login(web_app):
    client = web_app.test_client()
    assert client.get("/attendance/").status_code == 302
    assert client.get("/settings/").status_code == 302


@needs_datasets
@needs_detector
def test_start_uses_the_features_the_recognizer_was_trained_on(web_app):
    """A course switched to dlib keeps running on its pixel recognizer until retraining succeeds."""
    from app.models import Course

    teacher_id, course_id = seed_course(web_app)
    client = web_app.test_client()
    login(client, teacher_id)
    with web_app.app_context():
        course = db.session.get(Course, course_id)
        course.features = "dlib"  # the switch; the recognizer on disk is still the pixel one
        course.recognizer_summary = {"features": "pixels"}
        db.session.commit()
    from pathlib import Path

    import numpy as np

    blank = [np.zeros((480, 640, 3), np.uint8)] * 90  # three seconds of an empty room
    video = write_video(Path(web_app.config["CAMERA_VIDEO_DIR"]) / "empty.avi", blank)
    r = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "video", "video": video.name},
                    follow_redirects=True)
    assert sessions(web_app) == 1, r.get_data(as_text=True)
    camera_service(web_app).stop_all()
    with web_app.app_context():
        db.session.get(Course, course_id).recognizer_summary = {}  # no record of what it was trained on
        db.session.commit()
    r = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "video", "video": video.name},
                    follow_redirects=True)
    assert "train the course again" in r.get_data(as_text=True) or "not available" in r.get_data(as_text=True)
    assert sessions(web_app) == 1
