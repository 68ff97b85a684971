"""Course-level attendance statistics: per-student percentages, per-session rates, the export matrix."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, select

from .. import db
from ..models import AttendanceRecord, AttendanceSession, Course, Student
from ..timezones import zone
from .service import (PER_PAGE, Page, counted_clause, enrolled_count, not_excluded_record, paginate, present_counts,
                      with_counts)


@dataclass
class StudentStat:
    """A student's attendance over the course's counted sessions."""

    id: int
    name: str
    roll_number: str
    present: int
    total: int
    threshold: float

    @property
    def rate(self) -> float | None:
        return self.present / self.total if self.total else None

    @property
    def low(self) -> bool:
        return self.rate is not None and self.rate < self.threshold


def low_threshold() -> float:
    """ATTENDANCE_LOW_THRESHOLD as a fraction (0.75 = 75%)."""
    return float(current_app.config["ATTENDANCE_LOW_THRESHOLD"])


def counted_total(course_id: int, start: date | None = None, end: date | None = None, zone_name: str = "") -> int:
    """Number of sessions that count in percentages."""
    stmt = select(func.count(AttendanceSession.id)).where(AttendanceSession.course_id == course_id, counted_clause())
    return db.session.scalar(_in_range(stmt, start, end, zone_name)) or 0


def _utc_midnight(day: date, zone_name: str) -> datetime:
    """The UTC moment (naive, as stored) the day starts in the teacher's zone."""
    local = datetime.combine(day, time.min, tzinfo=zone(zone_name))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _in_range(stmt, start: date | None, end: date | None, zone_name: str = ""):
    """Limit to sessions started on start..end inclusive (dates in the teacher's zone)."""
    if start is not None:
        stmt = stmt.where(AttendanceSession.started_at >= _utc_midnight(start, zone_name))
    if end is not None:
        stmt = stmt.where(AttendanceSession.started_at < _utc_midnight(end + timedelta(days=1), zone_name))
    return stmt


STUDENT_SORTS = ("roll", "name", "rate")


def student_stats_page(course_id: int, page: int = 1, sort: str = "roll", low_only: bool = False,
                       per_page: int = PER_PAGE) -> Page:
    """Per-student present counts and percentages in one GROUP BY; low_only keeps those under the threshold."""
    total, threshold = counted_total(course_id), low_threshold()
    present = func.count(AttendanceRecord.id)
    # A student's records all belong to their own course's sessions; only excluded trials are left out.
    stmt = (
        select(Student.id, Student.name, Student.roll_number, present.label("present"))
        .outerjoin(AttendanceRecord, and_(AttendanceRecord.student_id == Student.id,
                                          AttendanceRecord.present.is_(True), not_excluded_record()))
        .where(Student.course_id == course_id)
        .group_by(Student.id)
    )
    if low_only and total:
        stmt = stmt.having(present < threshold * total)
    order = {"name": (Student.name, Student.id), "rate": (present.asc(), Student.roll_number)}
    stmt = stmt.order_by(*order.get(sort, (Student.roll_number, Student.id)))
    result = paginate(stmt, page, per_page)
    result.items = [StudentStat(r.id, r.name, r.roll_number, r.present, total, threshold) for r in result.items]
    return result


def student_rate(student: Student) -> StudentStat:
    """One student's percentage over the counted sessions of their course."""
    present = db.session.scalar(select(func.count(AttendanceRecord.id)).where(
        AttendanceRecord.student_id == student.id, AttendanceRecord.present.is_(True), not_excluded_record())) or 0
    return StudentStat(student.id, student.name, student.roll_number, present,
                       counted_total(student.course_id), low_threshold())


def student_history_page(student: Student, page: int = 1, show: str = "all", per_page: int = PER_PAGE) -> Page:
    """Every counted session of the student's course with their mark, newest first."""
    stmt = (
        select(AttendanceSession.id, AttendanceSession.started_at, AttendanceSession.ended_at,
               AttendanceSession.status, AttendanceSession.source_label, AttendanceRecord.present,
               AttendanceRecord.marked_by, AttendanceRecord.first_seen_at, AttendanceRecord.score)
        .outerjoin(AttendanceRecord, and_(AttendanceRecord.session_id == AttendanceSession.id,
                                          AttendanceRecord.student_id == student.id))
        .where(AttendanceSession.course_id == student.course_id, counted_clause())
    )
    if show == "present":
        stmt = stmt.where(AttendanceRecord.present.is_(True))
    elif show == "absent":
        stmt = stmt.where((AttendanceRecord.id.is_(None)) | (AttendanceRecord.present.is_(False)))
    stmt = stmt.order_by(AttendanceSession.started_at.desc(), AttendanceSession.id.desc())
    return paginate(stmt, page, per_page)


def session_rates(course_id: int, limit: int = 60) -> list[tuple[AttendanceSession, float]]:
    """The last `limit` counted sessions, oldest first, with the fraction present (for the chart)."""
    sessions = list(db.session.scalars(
        select(AttendanceSession).where(AttendanceSession.course_id == course_id, counted_clause())
        .order_by(AttendanceSession.started_at.desc(), AttendanceSession.id.desc()).limit(limit)
    ))[::-1]
    enrolled = enrolled_count(course_id)
    present = present_counts([s.id for s in sessions])
    return [(s, present.get(s.id, 0) / enrolled if enrolled else 0.0) for s in sessions]


def course_panel(course: Course) -> dict[str, Any]:
    """Everything the course page's attendance panel shows, from a handful of grouped queries."""
    recent = list(db.session.scalars(
        select(AttendanceSession).where(AttendanceSession.course_id == course.id)
        .order_by(AttendanceSession.started_at.desc(), AttendanceSession.id.desc()).limit(5)
    ))
    lowest = student_stats_page(course.id, sort="rate", low_only=True, per_page=10)
    rates = session_rates(course.id)
    return {
        "sessions_total": db.session.scalar(select(func.count(AttendanceSession.id))
                                            .where(AttendanceSession.course_id == course.id)) or 0,
        "counted": counted_total(course.id),
        "enrolled": enrolled_count(course.id),
        "recent": with_counts(course.id, recent),
        "low": lowest,
        "average": (sum(r for _, r in rates) / len(rates)) if rates else None,
        "threshold": low_threshold(),
    }


@dataclass
class Matrix:
    """Students x sessions for exports: present maps a student id to the session ids they were present in."""

    sessions: list[Any]
    students: list[Any]
    present: dict[int, set[int]]


def course_matrix(course_id: int, start: date | None = None, end: date | None = None, zone_name: str = "") -> Matrix:
    """Counted sessions in the range (oldest first), students by roll number, and who was present."""
    sessions = db.session.execute(_in_range(
        select(AttendanceSession.id, AttendanceSession.started_at, AttendanceSession.status)
        .where(AttendanceSession.course_id == course_id, counted_clause()), start, end, zone_name)
        .order_by(AttendanceSession.started_at, AttendanceSession.id)).all()
    students = db.session.execute(
        select(Student.id, Student.roll_number, Student.name, Student.email)
        .where(Student.course_id == course_id).order_by(Student.roll_number, Student.id)).all()
    ids = [s.id for s in sessions]
    present: dict[int, set[int]] = {}
    # Chunk the IN list: SQLite caps bound parameters, and a semester can have hundreds of sessions.
    for i in range(0, len(ids), 500):
        rows = db.session.execute(
            select(AttendanceRecord.session_id, AttendanceRecord.student_id)
            .where(AttendanceRecord.session_id.in_(ids[i:i + 500]), AttendanceRecord.present.is_(True)))
        for session_id, student_id in rows:
            present.setdefault(student_id, set()).add(session_id)
    return Matrix(sessions, students, present)


def session_detail(session: AttendanceSession) -> list[Any]:
    """Every enrolled student with their record fields for one session, by roll number."""
    return db.session.execute(
        select(Student.roll_number, Student.name, AttendanceRecord.present, AttendanceRecord.marked_by,
               AttendanceRecord.first_seen_at, AttendanceRecord.score)
        .outerjoin(AttendanceRecord, and_(AttendanceRecord.student_id == Student.id,
                                          AttendanceRecord.session_id == session.id))
        .where(Student.course_id == session.course_id).order_by(Student.roll_number, Student.id)
    ).all()
