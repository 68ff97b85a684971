"""Database tables (SQLAlchemy 2 typed style) and the Flask-Login user loader."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from . import db, login_manager


def utcnow() -> datetime:
    """Timezone-aware now, stored as UTC."""
    return datetime.now(timezone.utc)


class SessionStatus(StrEnum):
    """AttendanceSession.status (stored as its text: a StrEnum compares equal to the string read back)."""

    RUNNING = "running"
    ENDED = "ended"
    INTERRUPTED = "interrupted"  # the server stopped while it ran
    FAILED = "failed"  # the camera or recognizer could not run


class JobStatus(StrEnum):
    """Job.status."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MailStatus(StrEnum):
    """OutboxMessage.status."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # MAIL_MAX_ATTEMPTS tries, or a permanent refusal


class UTCDateTime(TypeDecorator):
    """A UTC moment that reads back the same on every database: naive UTC, as SQLite always gave it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        # Naive values are UTC by this app's rule; PostgreSQL would read them in the server's time zone.
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        # PostgreSQL returns aware values in the session's zone; SQLite naive UTC. Give both as naive UTC.
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value


def new_session_token() -> str:
    """A fresh per-teacher token; session cookies carry it, so replacing it logs every copy out."""
    return secrets.token_urlsafe(16)


class Teacher(UserMixin, db.Model):
    """A teacher account; owns courses and everything below them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    absence_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    # IANA zone name ("Europe/Madrid") every page, export and email shows times in; "" = UTC until the browser tells.
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Carried in the session cookie (get_id); logout replaces it, so a copied cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: new_session_token(),
                                               server_default="")

    courses: Mapped[list["Course"]] = relationship(back_populates="teacher", cascade="all, delete-orphan")

    def get_id(self) -> str:
        """Flask-Login's cookie value: id and session token."""
        return f"{self.id}:{self.session_token}"


class Course(db.Model):
    """A class a teacher takes attendance for; has its own students and recognizer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Feature kind the next training uses ("pixels"; "dlib" when that option is installed).
    features: Mapped[str] = mapped_column(String(20), default="pixels")
    # Version of the recognizer in use (None = never trained); its summary is in the last good Job.
    recognizer_version: Mapped[int | None] = mapped_column(Integer)
    recognizer_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    teacher: Mapped[Teacher] = relationship(back_populates="courses")
    students: Mapped[list["Student"]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Student.roll_number"
    )
    sessions: Mapped[list["AttendanceSession"]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )


class Student(db.Model):
    """A student enrolled in one course."""

    __table_args__ = (UniqueConstraint("course_id", "roll_number", name="uq_student_course_roll"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    roll_number: Mapped[str] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[Course] = relationship(back_populates="students")
    samples: Mapped[list["FaceSample"]] = relationship(back_populates="student", cascade="all, delete-orphan")


class FaceSample(db.Model):
    """One accepted 128x128 grey face crop, stored as dataset/<student_id>/<file>."""

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # photo | video | bulk
    sharpness: Mapped[float] = mapped_column(Float, default=0.0)
    brightness: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the course's recognizer named this new face as another student: left out of training
    # until the teacher confirms it (or deletes it).
    looks_like_id: Mapped[int | None] = mapped_column(Integer)

    student: Mapped[Student] = relationship(back_populates="samples")


class Job(db.Model):
    """Long work run in the background (video enrollment, bulk import, training) and its progress."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # enroll_video | enroll_bulk | train
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AttendanceSession(db.Model):
    """One run of the camera for a course."""

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    source_label: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.RUNNING)
    status_message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recognizer_version: Mapped[int | None] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    frames_analysed: Mapped[int] = mapped_column(Integer, default=0)
    # A trial run the teacher keeps out of percentages and the chart (still listed and exportable).
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Camera-worker processes (a school, REDIS_URL set; app/attendance/leases.py): what a worker needs
    # to run or resume the session, which worker holds it and when it last said so, and the Stop button.
    camera_view: Mapped[str | None] = mapped_column(String(20))
    email_unknown: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    course: Mapped[Course] = relationship(back_populates="sessions")
    records: Mapped[list["AttendanceRecord"]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    sightings: Mapped[list["UnknownSighting"]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class AttendanceRecord(db.Model):
    """A student's mark in one session; at most one per (session, student)."""

    __table_args__ = (
        UniqueConstraint("session_id", "student_id", name="uq_record_session_student"),
        Index("ix_record_student_session", "student_id", "session_id"),
        # Per-student percentages count present rows from this index alone (bench/RESULTS.md: 205 -> 7 ms).
        Index("ix_record_student_present", "student_id", "present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("attendance_session.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    marked_by: Mapped[str] = mapped_column(String(20), default="camera")  # camera | teacher
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[float | None] = mapped_column(Float)
    snapshot: Mapped[str | None] = mapped_column(String(200))
    # Why the camera's mark needs a teacher's look ("low score", later "flickering track"); the recorder may set it.
    review_reason: Mapped[str | None] = mapped_column(String(100))
    review: Mapped[str] = mapped_column(String(20), default="", server_default="")  # "" | confirmed | corrected | ignored
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[AttendanceSession] = relationship(back_populates="records")
    student: Mapped[Student] = relationship()


class AttendanceCorrection(db.Model):
    """Audit trail of a teacher's manual change to a record."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("attendance_session.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    before: Mapped[str] = mapped_column(String(20))  # present | absent
    after: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)


class UnknownSighting(db.Model):
    """A face that matched nobody for several frames in a session."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("attendance_session.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    score: Mapped[float | None] = mapped_column(Float)
    snapshot: Mapped[str | None] = mapped_column(String(200))
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The student the face was closest to (below the threshold): "looks most like Ana, 41% match".
    best_label: Mapped[int | None] = mapped_column(Integer)
    review: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")  # pending|student|stranger|ignored
    reviewed_student_id: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stranger: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 1, 2, ... per session

    session: Mapped[AttendanceSession] = relationship(back_populates="sightings")


class AuditEvent(db.Model):
    """Audit trail of a teacher's action that is not a mark change (session deleted, face data erased, review)."""

    __table_args__ = (Index("ix_audit_event_course_at", "course_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))  # session_deleted | session_excluded | face_data_deleted | review_*
    detail: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(db.Model):
    """An email waiting to be sent; SMTP failures leave it here to be retried."""

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"), index=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default=MailStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@login_manager.user_loader
def load_teacher(teacher_id: str) -> Teacher | None:
    """Flask-Login hook: the teacher for a session cookie, only while its session token is current."""
    ident, _, token = (teacher_id or "").partition(":")
    if not ident.isascii() or not ident.isdigit() or not token:
        return None
    teacher = db.session.get(Teacher, int(ident))
    if teacher is None or not secrets.compare_digest(teacher.session_token or "", token):
        return None
    return teacher
