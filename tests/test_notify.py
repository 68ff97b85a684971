"""Outbox mail: rows first, yagmail to a real local SMTP server, retries when the server is down."""
from __future__ import annotations

import pytest

from app import db, notify
from app.models import OutboxMessage, Teacher
from live_media import live_app, sink, wait_for  # noqa: F401


@pytest.fixture
def mail_app(live_app, sink):
    """The live app with SMTP stopped (tests start it when they want) and teacher 1."""
    sink.stop()
    with live_app.app_context():
        db.session.add(Teacher(id=1, name="T", email="t@example.org", password_hash="x"))
        db.session.commit()
    return live_app


def _message(app, message_id):
    with app.app_context():
        m = db.session.get(OutboxMessage, message_id)
        db.session.expunge(m)
        return m


def test_enqueue_only_adds_a_row_and_delivery_carries_the_attachment(mail_app, sink, tmp_path):
    sink.start()
    snapshot = tmp_path / "unknown.jpg"
    snapshot.write_bytes(b"\xff\xd8fake-jpeg\xff\xd9")
    with mail_app.app_context():
        mid = notify.enqueue_mail(1, "t@example.org", "Unknown person", "Course: Bio\nCamera: webcam 0",
                                  str(snapshot)).id
        db.session.commit()
    assert _message(mail_app, mid).status == "pending" and sink.messages == []
    assert notify.deliver_due(mail_app) == 1
    assert wait_for(lambda: len(sink.messages) == 1, 10)
    msg = sink.messages[0]
    assert msg["Subject"] == "Unknown person" and msg["To"] == "t@example.org"
    text = msg.get_body(preferencelist=("plain", "html")).get_content()
    assert "Course: Bio" in text and "webcam 0" in text
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "unknown.jpg"
    assert attachment.get_content() == snapshot.read_bytes()
    sent = _message(mail_app, mid)
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
    assert notify.deliver_due(mail_app) == 0  # never sent twice


def test_smtp_down_then_up_mail_arrives_later(mail_app, sink, monkeypatch):
    monkeypatch.setattr(notify, "FIRST_RETRY_SECONDS", 0.2)
    with mail_app.app_context():
        mid = notify.enqueue_mail(1, "t@example.org", "Later", "body").id
        db.session.commit()
    sender = notify.OutboxSender(mail_app, poll_seconds=0.1)
    sender.start()
    try:
        assert wait_for(lambda: _message(mail_app, mid).attempts >= 2, 20)
        failed = _message(mail_app, mid)
        assert failed.status == "pending" and failed.last_error and sink.messages == []
        sink.start()
        assert wait_for(lambda: len(sink.messages) == 1, 20)
        assert wait_for(lambda: _message(mail_app, mid).status == "sent", 10)
    finally:
        sender.stop()
    assert not sender.is_alive()
    assert sink.messages[0]["Subject"] == "Later"


def test_missing_attachment_is_retried_not_lost(mail_app, sink, tmp_path):
    sink.start()
    with mail_app.app_context():
        mid = notify.enqueue_mail(1, "t@example.org", "S", "b", str(tmp_path / "gone.jpg")).id
        db.session.commit()
    assert notify.deliver_due(mail_app) == 0
    m = _message(mail_app, mid)
    assert m.status == "pending" and "gone.jpg" in m.last_error


def test_stuck_sending_rows_go_back_to_pending(mail_app):
    with mail_app.app_context():
        mid = notify.enqueue_mail(1, "t@example.org", "S", "b").id
        db.session.get(OutboxMessage, mid).status = "sending"
        db.session.commit()
    notify.release_stuck(mail_app)
    assert _message(mail_app, mid).status == "pending"
