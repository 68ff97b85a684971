"""The only code that writes AttendanceSession rows and, with records.py (corrections, erasure), AttendanceRecord
and UnknownSighting rows."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import db
from ..models import AttendanceRecord, AttendanceSession, AuditEvent, Course, SessionStatus, Student, UnknownSighting
from ..notify import enqueue_mail
from ..storage import Storage
from ..timezones import format_local
from .alert_mail import alert_text

log = logging.getLogger(__name__)

OPEN = SessionStatus.RUNNING
SESSION_ENDED_HOOKS = "rollcall.session_ended"  # app.extensions key: hooks run after a session ends


class AttendanceError(RuntimeError):
    """Attendance cannot start or change; the message is for the teacher."""


def get_session(session_id: int, teacher_id: int | None = None) -> AttendanceSession | None:
    """A session (only if it belongs to the teacher, when one is given)."""
    session = db.session.get(AttendanceSession, session_id)
    if session is None or (teacher_id is not None and session.course.teacher_id != teacher_id):
        return None
    return session


def create_session(course_id: int, source: str, source_label: str, recognizer_version: int | None,
                   camera_view: str | None = None, email_unknown: bool = True) -> int:
    """A new running session; returns its id."""
    session = AttendanceSession(course_id=course_id, source=source, source_label=source_label[:200],
                                status=OPEN, recognizer_version=recognizer_version, camera_view=camera_view,
                                email_unknown=email_unknown)
    db.session.add(session)
    db.session.commit()
    log.info("attendance session %s started for course %s on %s", session.id, course_id, source_label)
    return session.id


def end_session(session_id: int, status: str = SessionStatus.ENDED, message: str = "", frames: int | None = None,
                frames_analysed: int | None = None) -> bool:
    """Close a running session once (later calls only update the counters); True if this call closed it."""
    session = db.session.get(AttendanceSession, session_id)
    if session is None:
        return False
    if frames is not None:
        session.frames = max(session.frames or 0, frames)
    if frames_analysed is not None:
        session.frames_analysed = max(session.frames_analysed or 0, frames_analysed)
    closed = session.status == OPEN
    if closed:
        session.status, session.status_message = status, message[:2000]
        session.ended_at = datetime.now(timezone.utc)
    db.session.commit()
    if closed and status == SessionStatus.ENDED:
        _run_session_ended_hooks(session_id)
    return closed


def on_session_ended(app: Flask, hook: Callable[[int], object]) -> None:
    """Register hook(session_id), run after a session ends normally (reports uses it for the absence digest)."""
    app.extensions.setdefault(SESSION_ENDED_HOOKS, []).append(hook)


def _run_session_ended_hooks(session_id: int) -> None:
    """Each hook commits its own work; a failing hook is logged and must not undo the session's end."""
    for hook in current_app.extensions.get(SESSION_ENDED_HOOKS, []):
        try:
            hook(session_id)
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("session-ended hook %s failed for session %s", getattr(hook, "__name__", hook), session_id)


def note_status(session_id: int, message: str) -> None:
    """Keep the camera's latest status line (offline, back online) on a running session."""
    db.session.execute(update(AttendanceSession).where(AttendanceSession.id == session_id,
                                                       AttendanceSession.status == OPEN)
                       .values(status_message=message[:2000]))
    db.session.commit()


def close_interrupted() -> int:
    """Sessions left running by a previous process are closed as interrupted; returns how many."""
    result = db.session.execute(
        update(AttendanceSession).where(AttendanceSession.status == OPEN).values(
            status=SessionStatus.INTERRUPTED, ended_at=datetime.now(timezone.utc),
            status_message="the server stopped while this session was running")
    )
    db.session.commit()
    return result.rowcount or 0


def mark_present(session_id: int, student_id: int, score: float | None, first_seen: datetime | None,
                 snapshot: str | None, review_reason: str | None = None) -> bool:
    """Mark a camera-confirmed student present once per session; False if already marked (even by a race).

    review_reason (e.g. "flickering track") puts the mark on the teacher's review page whatever its score."""
    session = db.session.get(AttendanceSession, session_id)
    student = db.session.get(Student, student_id)
    if session is None or student is None or student.course_id != session.course_id:
        log.warning("session %s: ignoring mark for student %s (not in this course)", session_id, student_id)
        return False
    exists = db.session.scalar(select(AttendanceRecord.id).where(
        AttendanceRecord.session_id == session_id, AttendanceRecord.student_id == student_id))
    if exists is not None:
        return False
    db.session.add(AttendanceRecord(session_id=session_id, student_id=student_id, present=True,
                                    marked_by="camera", first_seen_at=first_seen, score=score, snapshot=snapshot,
                                    review_reason=review_reason[:100] if review_reason else None))
    try:
        db.session.commit()
    except IntegrityError:
        # Another writer got there first: the unique constraint keeps "present once" true.
        db.session.rollback()
        return False
    return True


def record_unknown(session_id: int, track_id: int, score: float | None, seen_at: datetime, snapshot: str | None,
                   snapshot_path: str | None, email: bool, stranger: int = 0, new_stranger: bool = True,
                   max_emails: int = 5, best_label: int | None = None) -> UnknownSighting | None:
    """One sighting row per unknown track (with the closest student, when known); a new stranger is
    mailed, up to max_emails, then one summary."""
    session = db.session.get(AttendanceSession, session_id)
    if session is None:
        return None
    sighting = UnknownSighting(session_id=session_id, track_id=track_id, seen_at=seen_at, score=score,
                               snapshot=snapshot, emailed=False, stranger=stranger, best_label=best_label)
    db.session.add(sighting)
    if email and new_stranger:
        mailed = db.session.scalar(select(func.count(UnknownSighting.id)).where(
            UnknownSighting.session_id == session_id, UnknownSighting.emailed.is_(True)))
        if mailed <= max_emails:
            subject, body = alert_text(session, seen_at, stranger, summary=mailed == max_emails)
            teacher = session.course.teacher
            enqueue_mail(teacher.id, teacher.email, subject, body, snapshot_path)
            sighting.emailed = True
        else:
            log.info("session %s: stranger %s not mailed (flood guard: %s emails sent)", session_id, stranger, mailed)
    db.session.commit()
    return sighting


def session_summary(session_id: int) -> dict[str, Any]:
    """Marked students (name, roll, time), counts present/absent/unknown, for the live page and the CLI."""
    session = db.session.get(AttendanceSession, session_id)
    rows = db.session.execute(
        select(AttendanceRecord, Student).join(Student, Student.id == AttendanceRecord.student_id)
        .where(AttendanceRecord.session_id == session_id, AttendanceRecord.present.is_(True))
        .order_by(AttendanceRecord.first_seen_at, AttendanceRecord.id)
    ).all()
    enrolled = db.session.scalar(select(func.count(Student.id)).where(Student.course_id == session.course_id))
    unknown = db.session.scalar(select(func.count(UnknownSighting.id)).where(
        UnknownSighting.session_id == session_id))
    marked = [{"student_id": s.id, "name": s.name, "roll_number": s.roll_number,
               "first_seen_at": r.first_seen_at.isoformat() if r.first_seen_at else None,
               "score": r.score, "snapshot": r.snapshot.rsplit("/", 1)[-1] if r.snapshot else None}
              for r, s in rows]
    return {"session_id": session_id, "status": session.status, "status_message": session.status_message,
            "marked": marked, "present": len(marked), "absent": max(0, enrolled - len(marked)),
            "unknown": unknown, "enrolled": enrolled}


def course_for_start(course_id: int, teacher_id: int | None = None) -> Course:
    """The course to take attendance for; refuses a missing course or one without a trained recognizer."""
    course = db.session.get(Course, course_id)
    if course is None or (teacher_id is not None and course.teacher_id != teacher_id):
        raise AttendanceError(f"course {course_id} not found")
    if not course.recognizer_version:
        raise AttendanceError(f"“{course.name}” has no trained recognizer yet: enroll students and train it first")
    return course


def recent_sessions(teacher_id: int, limit: int = 30) -> list[AttendanceSession]:
    """The teacher's newest sessions, running ones first."""
    return list(db.session.scalars(
        select(AttendanceSession).join(Course).where(Course.teacher_id == teacher_id)
        .order_by((AttendanceSession.status == OPEN).desc(), AttendanceSession.started_at.desc()).limit(limit)
    ))



def running_session(course_id: int) -> AttendanceSession | None:
    """The course's running session, if any."""
    return db.session.scalars(select(AttendanceSession).where(
        AttendanceSession.course_id == course_id, AttendanceSession.status == OPEN)
        .order_by(AttendanceSession.id.desc()).limit(1)).first()


def delete_session(session_id: int, teacher_id: int, files: Storage) -> str:
    """Delete an ended session with its records, sightings and snapshot files; audited. Returns its description."""
    session = get_session(session_id, teacher_id)
    if session is None:
        raise AttendanceError("session not found")
    if session.status == OPEN:
        raise AttendanceError("stop the session before deleting it")
    teacher = session.course.teacher
    described = (f"session #{session.id} of {format_local(session.started_at, teacher.timezone)} "
                 f"({session.source_label or session.source}, {len(session.records)} marks, "
                 f"{len(session.sightings)} unknown faces)")
    db.session.add(AuditEvent(teacher_id=teacher_id, course_id=session.course_id, action="session_deleted",
                              detail=described))
    db.session.delete(session)  # records, sightings and corrections go with it (cascade)
    db.session.commit()
    files.delete_session_snapshots(session_id)
    log.info("teacher %s deleted %s", teacher_id, described)
    return described


def set_excluded(session_id: int, teacher_id: int, excluded: bool) -> None:
    """Keep a trial session out of percentages and the chart (or count it again); audited."""
    session = get_session(session_id, teacher_id)
    if session is None:
        raise AttendanceError("session not found")
    if session.excluded == excluded:
        return
    session.excluded = excluded
    db.session.add(AuditEvent(teacher_id=teacher_id, course_id=session.course_id,
                              action="session_excluded" if excluded else "session_included",
                              detail=f"session #{session.id}"))
    db.session.commit()
