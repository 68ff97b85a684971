"""Absence digest: one email per ended session listing who was absent, sent through the outbox."""
from __future__ import annotations

import logging
from .. import db
from ..models import AttendanceSession
from ..timezones import format_local
from .stats import session_detail

log = logging.getLogger(__name__)


def build_absence_digest(session: AttendanceSession, requested: bool = False) -> tuple[str, str]:
    """Subject and plain-text body listing the absent students; requested = the teacher asked for it by hand."""
    rows = session_detail(session)
    absent = [r for r in rows if not r.present]
    course = session.course
    zone_name = course.teacher.timezone
    when = format_local(session.started_at, zone_name)
    day = format_local(session.started_at, zone_name, "%Y-%m-%d", with_zone=False)
    subject = f"Rollcall: {len(absent)} of {len(rows)} absent in {course.name} ({day})"
    lines = [f"Attendance session of {when} for {course.name}.", ""]
    if absent:
        lines.append(f"Absent ({len(absent)} of {len(rows)}):")
        lines += [f"  {r.roll_number}  {r.name}" for r in absent]
    else:
        lines.append(f"Everyone was present ({len(rows)} students).")
    lines += ["", "Corrections made after this email are not included; the session page is always current.",
              "You asked for this list on the session page." if requested else
              "You get this email because the absence digest is on in Rollcall's report settings."]
    return subject, "\n".join(lines)


def send_absence_digest(session_id: int, *, force: bool = False) -> int | None:
    """Queue (and commit) the digest if the teacher turned it on, or force; the outbox message id, or None."""
    session = db.session.get(AttendanceSession, session_id)
    if session is None:
        log.warning("absence digest: session %s not found", session_id)
        return None
    teacher = session.course.teacher
    if not (teacher.absence_digest or force):
        return None
    from ..notify import enqueue_mail  # the outbox belongs to the notify module

    subject, body = build_absence_digest(session, requested=force)
    message = enqueue_mail(teacher.id, teacher.email, subject, body)
    db.session.commit()
    log.info("absence digest for session %s queued to teacher %s", session_id, teacher.id)
    return message.id
