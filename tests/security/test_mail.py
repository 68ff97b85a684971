"""Issue 14 item 6: mail carries teacher and roster text as plain text, one Message-ID per mail, and
undeliverable mail ends in a "failed" state the teacher sees (real SMTP sink, real outbox)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conftest import AuthActions
from sqlalchemy import select

from app import db, notify
from app.attendance import service
from app.models import Course, OutboxMessage, Student, Teacher
from app.reports.digest import send_absence_digest
from live_media import live_app, sink, wait_for  # noqa: F401

HOSTILE_COURSE = '<b>Bio</b> <a href="https://evil.example/">click</a>\r\nBcc: victim@example.org'
HOSTILE_STUDENT = '<img src=x onerror="alert(1)">\nAda'


def _setup(app) -> tuple[int, int]:
    """A teacher whose course and student carry HTML and line breaks; an ended session."""
    from app.auth.service import create_teacher

    with app.app_context():
        teacher = create_teacher("Teacher", "t@example.org", "a long enough passphrase 7")
        course = Course(teacher_id=teacher.id, name=HOSTILE_COURSE, features="pixels")
        db.session.add(course)
        db.session.flush()
        db.session.add(Student(course_id=course.id, name=HOSTILE_STUDENT, roll_number="R1"))
        db.session.commit()
        session_id = service.create_session(course.id, "0", "webcam <0>", None)
        ids = teacher.id, session_id
        db.session.remove()
    return ids


def _delivered(app, sink, n: int) -> list:
    notify.deliver_due(app)
    assert wait_for(lambda: len(sink.messages) >= n, 20)
    return list(sink.messages)


def test_names_are_sent_as_plain_text_with_one_line_headers(live_app, sink, tmp_path):
    teacher_id, session_id = _setup(live_app)
    snapshot = tmp_path / "unknown.jpg"
    snapshot.write_bytes(b"\xff\xd8snapshot\xff\xd9")
    with live_app.app_context():
        service.record_unknown(session_id, 1, 0.2, datetime.now(timezone.utc), "unknown.jpg", str(snapshot),
                               email=True, stranger=1)
        service.end_session(session_id)
        assert send_absence_digest(session_id, force=True) is not None
    alert, digest = sorted(_delivered(live_app, sink, 2), key=lambda m: "absent" in m["Subject"])
    for message in (alert, digest):
        assert message.get_body(("html",)) is None  # no HTML part a name could inject into
        assert "\n" not in message["Subject"] and "Bcc" not in message.keys()
        assert message["To"] == "t@example.org"
        text = message.get_body(("plain",)).get_content()
        assert "<br>" not in text
    assert "<b>Bio</b>" in alert["Subject"]
    alert_text = alert.get_body(("plain",)).get_content()
    assert "Course: <b>Bio</b>" in alert_text and "Camera: webcam <0>" in alert_text
    assert "onerror" in digest.get_body(("plain",)).get_content()
    (attachment,) = list(alert.iter_attachments())
    assert attachment.get_content() == snapshot.read_bytes()
    with live_app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_every_mail_has_its_own_message_id(live_app, sink):
    with live_app.app_context():
        db.session.add(Teacher(id=1, name="T", email="t@example.org", password_hash="x"))
        db.session.commit()
        for i in range(3):
            notify.enqueue_mail(1, "t@example.org", "Rollcall: unknown person in Bio", f"alert {i}")
        db.session.commit()
    messages = _delivered(live_app, sink, 3)
    ids = [m["Message-ID"] for m in messages]
    assert len(set(ids)) == 3 and all(i.startswith("<") and i.endswith("@example.org>") for i in ids)


def test_undeliverable_mail_ends_failed_and_the_settings_page_says_so(live_app, sink, monkeypatch):
    sink.stop()  # the SMTP server is gone for good
    monkeypatch.setattr(notify, "FIRST_RETRY_SECONDS", 0.0)
    live_app.config["MAIL_MAX_ATTEMPTS"] = 3
    teacher_id, _ = _setup(live_app)
    with live_app.app_context():
        message_id = notify.enqueue_mail(teacher_id, "t@example.org", "Never arrives", "body").id
        db.session.commit()
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    for _ in range(5):
        notify.deliver_due(live_app, now=later)
    with live_app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "failed" and message.attempts == 3 and message.last_error
        assert notify.outbox_counts(teacher_id)["failed"] == 1
    client = live_app.test_client()
    AuthActions(client).login("t@example.org", "a long enough passphrase 7")
    page = client.get("/settings/").get_data(as_text=True)
    assert "<strong>failed</strong> (not retried)" in page and 'id="outbox-failed"' in page
    assert "Never arrives" in page

