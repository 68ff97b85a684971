"""Attendance rows after the camera: teacher corrections and snapshot erasure (with service.py, the only
writers of AttendanceRecord and UnknownSighting)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import db
from ..models import AttendanceCorrection, AttendanceRecord, AttendanceSession, Student, UnknownSighting
from .service import get_session

log = logging.getLogger(__name__)

REASON_MAX = 500  # characters of a correction's reason


class CorrectionError(ValueError):
    """A correction the teacher must fix (no reason, no change, wrong student)."""


def forget_student_snapshots(student_id: int) -> list[str]:
    """Stage: rows stop naming a student's snapshots (marks stay); returns the file names. The caller commits."""
    names = list(db.session.scalars(select(AttendanceRecord.snapshot).where(
        AttendanceRecord.student_id == student_id, AttendanceRecord.snapshot.is_not(None))))
    names += list(db.session.scalars(select(UnknownSighting.snapshot).where(
        UnknownSighting.reviewed_student_id == student_id, UnknownSighting.snapshot.is_not(None))))
    db.session.execute(update(AttendanceRecord).where(AttendanceRecord.student_id == student_id).values(snapshot=None))
    db.session.execute(update(UnknownSighting).where(UnknownSighting.reviewed_student_id == student_id)
                       .values(snapshot=None))
    # A face that only looked like them is no longer linked to them either.
    db.session.execute(update(UnknownSighting).where(UnknownSighting.best_label == student_id).values(best_label=None))
    return names


def forget_snapshots_before(cutoff: datetime) -> None:
    """Rows of sessions started before cutoff stop naming snapshots (the retention sweep deleted the files)."""
    old = select(AttendanceSession.id).where(AttendanceSession.started_at < cutoff)
    db.session.execute(update(AttendanceRecord).where(AttendanceRecord.session_id.in_(old),
                                                      AttendanceRecord.snapshot.is_not(None)).values(snapshot=None))
    db.session.execute(update(UnknownSighting).where(UnknownSighting.session_id.in_(old),
                                                     UnknownSighting.snapshot.is_not(None)).values(snapshot=None))
    db.session.commit()


# Teacher corrections: audited, one commit each (camera marks are service.mark_present).

def set_mark(session_id: int, student_id: int, teacher_id: int, present: bool, reason: str,
             *, _retry: bool = True) -> AttendanceCorrection:
    """Mark a student present/absent by hand and log who, when, before, after and why, in one commit."""
    reason = (reason or "").strip()
    if not reason:
        raise CorrectionError("Give a reason for the change; it is kept in the audit log.")
    if len(reason) > REASON_MAX:
        raise CorrectionError(f"Keep the reason under {REASON_MAX} characters.")
    session = get_session(session_id, teacher_id)
    student = db.session.get(Student, student_id)
    if session is None or student is None or student.course_id != session.course_id:
        raise CorrectionError("That student is not enrolled in this session's course.")
    record = db.session.scalar(select(AttendanceRecord).where(
        AttendanceRecord.session_id == session_id, AttendanceRecord.student_id == student_id))
    before = "present" if record is not None and record.present else "absent"
    after = "present" if present else "absent"
    if before == after:
        raise CorrectionError(f"{student.name} is already marked {after}; nothing changed.")
    if record is None:
        db.session.add(AttendanceRecord(session_id=session_id, student_id=student_id, present=present,
                                        marked_by="teacher"))
    else:
        # Camera evidence (first_seen_at, score, snapshot) stays: the audit row explains the override.
        record.present = present
        record.marked_by = "teacher"
    correction = AttendanceCorrection(session_id=session_id, student_id=student_id, teacher_id=teacher_id,
                                      before=before, after=after, reason=reason)
    db.session.add(correction)
    try:
        db.session.commit()
    except IntegrityError:
        # The camera inserted this student's record between our read and our insert: redo on top of it.
        db.session.rollback()
        if not _retry:
            raise
        return set_mark(session_id, student_id, teacher_id, present, reason, _retry=False)
    log.info("teacher %s marked student %s %s in session %s", teacher_id, student_id, after, session_id)
    return correction


def note_review(row: AttendanceRecord | UnknownSighting, verdict: str, at: datetime,
                student_id: int | None = None) -> None:
    """Stage a teacher's review verdict on a camera mark or an unknown face (review commits it with its audit)."""
    row.review, row.reviewed_at = verdict, at
    if isinstance(row, UnknownSighting) and student_id is not None:
        row.reviewed_student_id = student_id


def set_best_label(sighting: UnknownSighting, student_id: int, score: float | None) -> None:
    """Stage the enrolled student an unknown face looks most like (and its score when none was recorded)."""
    sighting.best_label = student_id
    if sighting.score is None:
        sighting.score = score
