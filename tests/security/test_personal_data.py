"""Promise 8: personal data is not left behind. A course deleted while training keeps no recognizer;
uploaded attendance videos go when their session ends (or is refused); old recognizer versions are
pruned (current + one previous kept); start-up sweeps orphans; snapshots and uploads expire after
SNAPSHOT_RETENTION_DAYS / VIDEO_RETENTION_DAYS, swept at start-up and daily."""
from __future__ import annotations

import io
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import pytest
from conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector

from app import db
from app.courses.service import delete_course
from app.courses.training import TrainingError, train_course
from app.models import AttendanceRecord, AttendanceSession, Course, Student, Teacher
from app.retention import RetentionSweeper, prune_versions, sweep
from helpers_web import course_of, faces94_people, images_of, seed_student_chips

def _age(path: Path, seconds_ago: float) -> Path:
    os.utime(path, (time.time() - seconds_ago, time.time() - seconds_ago))
    return path


@needs_datasets
@needs_detector
def test_a_course_deleted_while_training_keeps_no_recognizer(app, client, auth):
    from app.pipeline import new_detector
    from app.vision.preprocess import face_chip

    detector = new_detector({"DETECTOR_DIR": str(DETECTOR_DIR), "DETECTOR_PROTOTXT": "deploy.prototxt",
                             "DETECTOR_WEIGHTS": "res10_300x300_ssd_iter_140000.caffemodel",
                             "DETECTOR_MIN_CONFIDENCE": 0.5})
    auth.signup_and_login()
    course_id = course_of(app)
    for i, person in enumerate(faces94_people(DATASETS, 3)):
        images = [cv2.imread(str(p)) for p in images_of(person, 5)]
        seed_student_chips(app, course_id, str(i), [face_chip(im, detector.detect_padded(im)[0]) for im in images])

    def delete_from_another_request(fraction: float, message: str) -> None:
        if message.startswith("Saving"):  # the teacher deletes the course just as training saves
            def delete() -> None:
                with app.app_context():
                    delete_course(db.session.get(Course, course_id), app.config)
                    db.session.remove()
            thread = threading.Thread(target=delete)
            thread.start()
            thread.join()

    folder = Path(app.config["RECOGNIZER_DIR"]) / f"course_{course_id}"
    with app.app_context():
        with pytest.raises(TrainingError, match="deleted while it was training"):
            train_course(course_id, app.config, delete_from_another_request)
    assert not folder.exists()
    assert not any(Path(app.config["DATASET_DIR"]).iterdir())  # the students' faces went with the course


def test_prune_keeps_the_current_and_one_previous_version(tmp_path):
    for v in (1, 2, 3, 4, 6):
        for ext in ("joblib", "json"):
            (tmp_path / f"v{v}.{ext}").write_text("x")
    (tmp_path / "v5.joblib.tmp").write_text("x")
    _age(tmp_path / "v5.joblib.tmp", 3600)  # an hour-old temp file of a crashed save
    (tmp_path / "v7.joblib.tmp").write_text("x")  # a save in progress right now
    prune_versions(tmp_path, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "v3.joblib", "v3.json", "v4.joblib", "v4.json", "v6.joblib", "v6.json", "v7.joblib.tmp"]


def _seed_session(app, started_at: datetime, snapshot: str | None) -> tuple[int, int]:
    with app.app_context():
        teacher = db.session.scalar(db.select(Teacher)) or Teacher(name="T", email="t@example.org", password_hash="x")
        course = Course(teacher=teacher, name="Bio")
        student = Student(course=course, name="Sam", roll_number=str(time.monotonic_ns()))
        session = AttendanceSession(course=course, source="0", status="ended", started_at=started_at)
        db.session.add_all([course, student, session])
        db.session.flush()
        db.session.add(AttendanceRecord(session_id=session.id, student_id=student.id,
                                        snapshot=snapshot and snapshot.format(id=session.id)))
        db.session.commit()
        return session.id, course.id


def test_start_up_sweep_removes_orphans_and_keeps_what_rows_use(app):
    live_session, course_id = _seed_session(app, datetime.now(timezone.utc), "session_{id}/student_1.jpg")
    snapshots, models = Path(app.config["SNAPSHOT_DIR"]), Path(app.config["RECOGNIZER_DIR"])
    uploads, dataset = Path(app.config["UPLOAD_DIR"]), Path(app.config["DATASET_DIR"])
    keep = [snapshots / f"session_{live_session}" / "student_1.jpg", models / f"course_{course_id}" / "v1.joblib"]
    unnamed = snapshots / f"session_{live_session}" / "x.jpg"  # no row names it
    gone = [snapshots / "session_999" / "unknown_1.jpg", unnamed, models / "course_999" / "v1.joblib",
            dataset / "999" / "0.png", uploads / "attendance" / "left.mp4"]
    for path in keep + gone:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in (unnamed, gone[3], gone[3].parent, gone[4]):
        _age(path, 3600)  # older than a write in flight
    with app.app_context():
        db.session.get(Course, course_id).recognizer_version = 1
        db.session.commit()
    done = sweep(app)
    assert all(p.exists() for p in keep)
    assert not any(p.exists() for p in gone), [p for p in gone if p.exists()]
    assert done["model folders of deleted courses"] == 1 and done["snapshots with no row"] == 1


def test_snapshots_and_uploads_expire_after_their_retention_days(app):
    app.config.update(SNAPSHOT_RETENTION_DAYS=30, VIDEO_RETENTION_DAYS=2)
    old_session, _ = _seed_session(app, datetime.now(timezone.utc) - timedelta(days=40), "session_{id}/student_1.jpg")
    new_session, _ = _seed_session(app, datetime.now(timezone.utc), "session_{id}/student_1.jpg")
    snapshots, uploads = Path(app.config["SNAPSHOT_DIR"]), Path(app.config["UPLOAD_DIR"])
    old_file, new_file = (snapshots / f"session_{s}" / "student_1.jpg" for s in (old_session, new_session))
    old_upload, new_upload = uploads / "videos" / "a.mp4", uploads / "videos" / "b.mp4"
    for path in (old_file, new_file, old_upload, new_upload):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    _age(old_file, 40 * 24 * 3600)
    _age(old_upload, 3 * 24 * 3600)
    sweep(app)
    assert not old_file.exists() and new_file.exists()
    assert not old_upload.exists() and new_upload.exists()
    with app.app_context():
        snaps = dict(db.session.execute(db.select(AttendanceRecord.session_id, AttendanceRecord.snapshot)).all())
    assert snaps[old_session] is None and snaps[new_session] is not None  # the mark stays, the photo goes


def test_the_sweeper_runs_at_start_and_again_on_its_schedule(app):
    orphan = Path(app.config["RECOGNIZER_DIR"]) / "course_42" / "v1.joblib"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"x")
    sweeper = RetentionSweeper(app, every_seconds=0.2)
    sweeper.start()
    try:
        deadline = time.monotonic() + 10
        while sweeper.passes < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert sweeper.passes >= 3 and not orphan.parent.exists()


def test_a_refused_start_keeps_no_uploaded_video(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)  # never trained: the start is refused
    response = client.post("/attendance/start", data={
        "course_id": course_id, "source_kind": "upload", "video_file": (io.BytesIO(b"\x00" * 1000), "lesson.mp4")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Attendance not started" in response.get_data(as_text=True)
    folder = Path(app.config["UPLOAD_DIR"]) / "attendance"
    assert not folder.exists() or not any(folder.iterdir())


@needs_datasets
@needs_detector
def test_an_uploaded_video_is_deleted_when_its_session_ends(tmp_path):
    from conftest import test_config
    from live_media import PEOPLE, scene_frames, seed_course, write_video

    from app import create_app
    from app.attendance.camera_service import camera_service
    from app.database import upgrade_database
    from config import Config

    app = create_app(Config, test_config(tmp_path, CAMERA_VIDEO_REALTIME=False))
    upgrade_database(app)
    teacher_id, course_id = seed_course(app)
    data = write_video(tmp_path / "lesson.avi", scene_frames(PEOPLE[:1], frames_each=30)).read_bytes()
    client = app.test_client()
    with app.app_context():
        user_id = db.session.get(Teacher, teacher_id).get_id()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = user_id, True
    response = client.post("/attendance/start", data={
        "course_id": course_id, "source_kind": "upload", "video_file": (io.BytesIO(data), "lesson.avi")},
        content_type="multipart/form-data")
    assert response.status_code == 302 and "/attendance/" in response.headers["Location"]
    folder = Path(app.config["UPLOAD_DIR"]) / "attendance"
    try:
        deadline = time.monotonic() + 60
        while any(folder.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(folder.iterdir())  # the video ended, the worker closed it, the file is gone
    finally:
        camera_service(app).stop_all()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
