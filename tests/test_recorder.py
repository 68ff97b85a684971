"""The real worker and the real recorder: rows in SQLite, one mark per student, one unknown email."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import numpy as np
from conftest import needs_datasets, needs_detector
from sqlalchemy import func, select

from app import db
from app.attendance import service
from app.attendance.camera_service import camera_service
from app.attendance.recorder import Recorder
from app.background import start_background
from app.models import AttendanceRecord, AttendanceSession, OutboxMessage, UnknownSighting
from app.notify import deliver_due
from app.vision.camera import Marked, UnknownSeen
from live_media import PEOPLE, UNKNOWN, live_app, scene_frames, seed_course, sink, wait_for, write_video  # noqa: F401


def _count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model).filter_by(**where)
        return db.session.scalar(query)


@needs_datasets
@needs_detector
def test_video_session_marks_each_student_once_and_emails_the_unknown_once(live_app, sink, tmp_path):
    teacher_id, course_id = seed_course(live_app)
    video = write_video(tmp_path / "class.avi", scene_frames(PEOPLE[:3] + [UNKNOWN], frames_each=12))
    before = set(threading.enumerate())
    background = start_background(live_app, force=True)
    with live_app.app_context():
        session_id = camera_service(live_app).start(course_id, str(video))
    worker = camera_service(live_app).worker(session_id)
    worker.join(120)
    assert background.recorder.flush(30)
    assert wait_for(lambda: len(sink.messages) == 1, 30)
    with live_app.app_context():
        session = db.session.get(AttendanceSession, session_id)
        assert session.status == "ended" and session.frames == 88 == session.frames_analysed
        records = db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.session_id == session_id)).all()
        assert sorted(r.student_id for r in records) == [1, 2, 3]
        assert all(r.present and r.marked_by == "camera" and r.snapshot and r.first_seen_at for r in records)
        assert (tmp_path / "snapshots" / records[0].snapshot).is_file()
        (sighting,) = db.session.scalars(select(UnknownSighting)).all()
        assert sighting.emailed and sighting.snapshot
    msg = sink.messages[0]
    assert msg["To"] == "teacher@example.org" and "Biology 101" in msg["Subject"]
    text = msg.get_body(preferencelist=("plain", "html")).get_content()
    assert "Biology 101" in text and "class.avi" in text and "UTC" in text
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg" and len(attachment.get_content()) > 1000
    background.stop()
    assert set(threading.enumerate()) <= before


def test_mark_present_holds_under_a_race(live_app):
    _, course_id = seed_course(live_app, trained_version=False)
    with live_app.app_context():
        session_id = service.create_session(course_id, "0", "webcam 0", None)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def mark():
        with live_app.app_context():
            barrier.wait()
            results.append(service.mark_present(session_id, 2, 0.9, datetime.now(timezone.utc), None))
            db.session.remove()

    threads = [threading.Thread(target=mark) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, False, False, True]
    assert _count(live_app, AttendanceRecord, session_id=session_id) == 1


def test_one_email_per_stranger_a_flood_guard_and_no_email(live_app):
    teacher_id, course_id = seed_course(live_app, trained_version=False)
    live_app.config["CAMERA_UNKNOWN_MAX_EMAILS"] = 2
    with live_app.app_context():
        session_id = service.create_session(course_id, "0", "webcam 0", None)
        quiet_id = service.create_session(course_id, "1", "webcam 1", None)
    recorder = Recorder(live_app, None)
    chip = np.zeros((192, 192, 3), np.uint8)
    now = datetime.now(timezone.utc)
    with live_app.app_context():
        # Stranger 1 seen on two tracks (left and came back): one email.
        recorder.handle(UnknownSeen(session_id, 1, 0.1, now, chip, True, stranger=1, new_stranger=True))
        recorder.handle(UnknownSeen(session_id, 2, 0.1, now, chip, True, stranger=1, new_stranger=False))
        assert _count(live_app, OutboxMessage) == 1
        # A later stranger is not hidden by any cooldown: their own email.
        recorder.handle(UnknownSeen(session_id, 3, 0.1, now, chip, True, stranger=2, new_stranger=True))
        assert _count(live_app, OutboxMessage) == 2
        # Past the limit (2): one summary, then nothing more.
        for track, stranger in ((4, 3), (5, 4)):
            recorder.handle(UnknownSeen(session_id, track, 0.1, now, chip, True, stranger=stranger))
        recorder.handle(UnknownSeen(quiet_id, 1, 0.1, now, chip, email=False))
        recorder.handle(Marked(session_id, 99, 0.9, now, chip, 3, 0.2))  # not a student of this course: ignored
        subjects = db.session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)).all()
    assert _count(live_app, UnknownSighting) == 6
    assert subjects[:2] == ["Rollcall: unknown person in Biology 101"] * 2
    assert subjects[2:] == ["Rollcall: more unknown people in Biology 101"]
    assert _count(live_app, UnknownSighting, emailed=True) == 3
    assert _count(live_app, UnknownSighting, session_id=session_id, stranger=1) == 2
    assert _count(live_app, AttendanceRecord) == 0
    assert deliver_due(live_app) == 3


def test_restart_closes_sessions_left_running(live_app):
    _, course_id = seed_course(live_app, trained_version=False)
    with live_app.app_context():
        session_id = service.create_session(course_id, "0", "webcam 0", None)
    live_app.config["MAIL_ENABLED"] = False
    background = start_background(live_app, force=True)
    background.stop()
    with live_app.app_context():
        session = db.session.get(AttendanceSession, session_id)
        assert session.status == "interrupted" and session.ended_at is not None
    assert start_background(live_app) is None  # START_BACKGROUND is off in tests
