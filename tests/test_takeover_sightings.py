"""A session resumed by another camera worker numbers strangers from 1 again (and a video replays from
its start): a stranger recorded before the takeover is not mailed a second time; a new one still is."""
from __future__ import annotations

import threading

import pytest
from helpers_web import course_of

from app import db
from app.attendance import service
from app.models import OutboxMessage, UnknownSighting, utcnow


def _sight(session_id: int, track_id: int, stranger: int, new: bool = True) -> None:
    service.record_unknown(session_id, track_id, 0.2, utcnow(), None, None, email=True, stranger=stranger,
                           new_stranger=new)


def test_a_stranger_seen_again_by_the_resuming_worker_is_mailed_once(app, auth):
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        session_id = service.create_session(course_id, "video.mp4", "video.mp4", None)
        _sight(session_id, track_id=1, stranger=1)  # the first worker
        _sight(session_id, track_id=4, stranger=1, new=False)  # it came back: a sighting, no mail
        # The worker dies; another resumes the session from the video's start and meets stranger 1 as new.
        _sight(session_id, track_id=1, stranger=1)
        _sight(session_id, track_id=2, stranger=2)  # someone the first worker never saw
        mails = db.session.scalars(db.select(OutboxMessage.subject).order_by(OutboxMessage.id)).all()
        rows = db.session.execute(db.select(UnknownSighting.stranger, UnknownSighting.emailed)
                                  .order_by(UnknownSighting.id)).all()
    assert len(mails) == 2
    assert [tuple(r) for r in rows] == [(1, True), (1, False), (1, False), (2, True)]


def test_two_workers_meeting_the_same_stranger_at_once_mail_once(app, auth):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("two recorders write one session only in a school, which runs on PostgreSQL")
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        session_id = service.create_session(course_id, "rtsp://cam", "cam", None)
    start = threading.Barrier(4)

    def recorder(track_id: int) -> None:
        with app.app_context():
            start.wait(10)
            _sight(session_id, track_id=track_id, stranger=1)
            db.session.remove()

    threads = [threading.Thread(target=recorder, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1
        assert db.session.scalar(db.select(db.func.count(UnknownSighting.id))) == 4
