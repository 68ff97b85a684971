"""Seed data for the report tests: a small course whose marks are known cell by cell."""
from __future__ import annotations

from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

from app import db
from app.models import AttendanceRecord, AttendanceSession, Course, Student, Teacher, UnknownSighting

PASSWORD = "correct horse"
T0 = datetime(2026, 1, 5, 9, 0)
# roll -> marks per session (P camera, T teacher-present, a explicit absent record, . no record)
MARKS = {
    "R01": "PPP",
    "R02": "P.P",
    "R03": "...",
    "R04": "PPa",
}


def make_teacher(app, email: str, name: str = "Ada Teacher") -> int:
    """A teacher row with a real (cheap, test-only) password hash, ready for /auth/login."""
    with app.app_context():
        teacher = Teacher(name=name, email=email, password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
        db.session.add(teacher)
        db.session.commit()
        return teacher.id


def login(client, email: str) -> None:
    """Log in through the real auth route."""
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def seed_course(app, teacher_id: int, name: str = "Biology") -> dict:
    """Four students, three daily sessions (5-7 Jan 2026, 09:00 UTC) marked as MARKS says."""
    with app.app_context():
        course = Course(teacher_id=teacher_id, name=name)
        db.session.add(course)
        db.session.flush()
        students = {roll: Student(course_id=course.id, name=f"Student {roll}", roll_number=roll)
                    for roll in MARKS}
        db.session.add_all(students.values())
        sessions = [AttendanceSession(course_id=course.id, source="0", source_label="Room camera", status="ended",
                                      started_at=T0 + timedelta(days=d), ended_at=T0 + timedelta(days=d, hours=1))
                    for d in range(3)]
        db.session.add_all(sessions)
        db.session.flush()
        for roll, marks in MARKS.items():
            for sess, m in zip(sessions, marks):
                if m == ".":
                    continue
                db.session.add(AttendanceRecord(
                    session_id=sess.id, student_id=students[roll].id, present=m in "PT",
                    marked_by="camera" if m == "P" else "teacher",
                    first_seen_at=sess.started_at + timedelta(minutes=3) if m == "P" else None,
                    score=0.87 if m == "P" else None, snapshot=f"session_{sess.id}/student_{roll}.jpg" if m == "P" else None))
        db.session.add(UnknownSighting(session_id=sessions[0].id, track_id=7, seen_at=T0 + timedelta(minutes=5),
                                       score=0.2, snapshot=f"session_{sessions[0].id}/unknown_7.jpg"))
        db.session.commit()
        return {"course": course.id, "sessions": [s.id for s in sessions],
                "students": {roll: s.id for roll, s in students.items()}}
