"""Attendance queries for the report pages (teacher corrections are written by app.attendance.service).

Every aggregate is computed in SQL (GROUP BY / COUNT) and returned as plain rows, so a course with
100,000 records never loads them as ORM objects. A missing record means absent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from math import ceil
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from .. import db
from ..models import (
    AttendanceCorrection,
    AttendanceRecord,
    AttendanceSession,
    SessionStatus,
    Student,
    Teacher,
    UnknownSighting,
)

log = logging.getLogger(__name__)

PER_PAGE = 50


@dataclass
class Page:
    """One page of rows plus what the pager needs."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select, page: int, per_page: int = PER_PAGE) -> Page:
    """Run stmt for one page (page numbers out of range are clamped)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, ceil(total / per_page)))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(rows), page, per_page, total)


# --- what counts ----------------------------------------------------------------------------------

def counted_clause():
    """Sessions that count in percentages: all but excluded trials and failed runs nobody was marked in."""
    rec = aliased(AttendanceRecord)  # an alias, so queries that also join records do not swallow it
    has_record = exists(select(rec.id).where(rec.session_id == AttendanceSession.id)).correlate(AttendanceSession)
    return and_(AttendanceSession.excluded.is_(False), or_(AttendanceSession.status != SessionStatus.FAILED, has_record))


def not_excluded_record():
    """Records whose session counts (an excluded trial's marks must not raise a student's percentage)."""
    return AttendanceRecord.session_id.not_in(select(AttendanceSession.id).where(AttendanceSession.excluded.is_(True)))


def enrolled_count(course_id: int) -> int:
    """Students currently enrolled in the course."""
    return db.session.scalar(select(func.count(Student.id)).where(Student.course_id == course_id)) or 0


def present_counts(session_ids: list[int]) -> dict[int, int]:
    """session id -> number of students marked present."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(AttendanceRecord.session_id, func.count(AttendanceRecord.id))
        .where(AttendanceRecord.session_id.in_(session_ids), AttendanceRecord.present.is_(True))
        .group_by(AttendanceRecord.session_id)
    )
    return {k: v for k, v in rows}


def unknown_counts(session_ids: list[int]) -> dict[int, int]:
    """session id -> number of unknown-face sightings."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(UnknownSighting.session_id, func.count(UnknownSighting.id))
        .where(UnknownSighting.session_id.in_(session_ids)).group_by(UnknownSighting.session_id)
    )
    return {k: v for k, v in rows}


@dataclass
class SessionRow:
    """A session with its counts, as the sessions list shows it."""

    session: Any
    present: int
    absent: int
    unknown: int

    @property
    def rate(self) -> float | None:
        total = self.present + self.absent
        return self.present / total if total else None


SESSION_SORTS = {
    "newest": AttendanceSession.started_at.desc(),
    "oldest": AttendanceSession.started_at.asc(),
}
SESSION_STATUSES = tuple(SessionStatus)


def sessions_page(course_id: int, page: int = 1, status: str = "", sort: str = "newest",
                  per_page: int = PER_PAGE) -> Page:
    """The course's sessions, newest first, with present/absent/unknown counts."""
    stmt = select(AttendanceSession).where(AttendanceSession.course_id == course_id)
    if status in SESSION_STATUSES:
        stmt = stmt.where(AttendanceSession.status == status)
    stmt = stmt.order_by(SESSION_SORTS.get(sort, SESSION_SORTS["newest"]), AttendanceSession.id.desc())
    result = paginate(stmt, page, per_page)
    result.items = with_counts(course_id, [row[0] for row in result.items])
    return result


def with_counts(course_id: int, sessions: list[AttendanceSession]) -> list[SessionRow]:
    """Attach counts to sessions with two grouped queries."""
    ids = [s.id for s in sessions]
    enrolled = enrolled_count(course_id)
    present, unknown = present_counts(ids), unknown_counts(ids)
    return [SessionRow(s, present.get(s.id, 0), max(0, enrolled - present.get(s.id, 0)), unknown.get(s.id, 0))
            for s in sessions]


# --- one session ----------------------------------------------------------------------------------

ROSTER_SORTS = {
    "roll": (Student.roll_number, Student.id),
    "name": (Student.name, Student.id),
    "seen": (AttendanceRecord.first_seen_at.asc().nulls_last(), Student.roll_number),
    "score": (AttendanceRecord.score.desc().nulls_last(), Student.roll_number),
}


def roster_page(session: AttendanceSession, page: int = 1, show: str = "all", sort: str = "roll",
                q: str = "", per_page: int = PER_PAGE) -> Page:
    """Every enrolled student with their mark in the session (no record = absent)."""
    stmt = (
        select(Student.id, Student.name, Student.roll_number, AttendanceRecord.present,
               AttendanceRecord.marked_by, AttendanceRecord.first_seen_at, AttendanceRecord.score,
               AttendanceRecord.snapshot)
        .outerjoin(AttendanceRecord, and_(AttendanceRecord.student_id == Student.id,
                                          AttendanceRecord.session_id == session.id))
        .where(Student.course_id == session.course_id)
    )
    if show == "present":
        stmt = stmt.where(AttendanceRecord.present.is_(True))
    elif show == "absent":
        stmt = stmt.where(or_(AttendanceRecord.id.is_(None), AttendanceRecord.present.is_(False)))
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Student.name.ilike(like), Student.roll_number.ilike(like)))
    return paginate(stmt.order_by(*ROSTER_SORTS.get(sort, ROSTER_SORTS["roll"])), page, per_page)


def sightings(session_id: int, limit: int = 100) -> list[UnknownSighting]:
    """The newest unknown-face sightings of a session."""
    return list(db.session.scalars(
        select(UnknownSighting).where(UnknownSighting.session_id == session_id)
        .order_by(UnknownSighting.seen_at.desc()).limit(limit)
    ))


def corrections(session_id: int | None = None, student_id: int | None = None, limit: int = 200) -> list[Any]:
    """Audit rows (newest first) with the student's and the teacher's names."""
    stmt = (
        select(AttendanceCorrection, Student.name.label("student_name"), Student.roll_number,
               Teacher.name.label("teacher_name"), AttendanceSession.started_at)
        .join(Student, Student.id == AttendanceCorrection.student_id)
        .join(Teacher, Teacher.id == AttendanceCorrection.teacher_id)
        .join(AttendanceSession, AttendanceSession.id == AttendanceCorrection.session_id)
    )
    if session_id is not None:
        stmt = stmt.where(AttendanceCorrection.session_id == session_id)
    if student_id is not None:
        stmt = stmt.where(AttendanceCorrection.student_id == student_id)
    return list(db.session.execute(stmt.order_by(AttendanceCorrection.at.desc(),
                                                 AttendanceCorrection.id.desc()).limit(limit)))


def record_snapshot(session_id: int, student_id: int) -> str | None:
    """The camera snapshot file kept on a student's record, if any."""
    return db.session.scalar(select(AttendanceRecord.snapshot).where(
        AttendanceRecord.session_id == session_id, AttendanceRecord.student_id == student_id))


def sighting_snapshot(session_id: int, sighting_id: int) -> str | None:
    """The snapshot file of an unknown sighting, if it belongs to the session."""
    return db.session.scalar(select(UnknownSighting.snapshot).where(
        UnknownSighting.session_id == session_id, UnknownSighting.id == sighting_id))
