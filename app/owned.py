"""The views' ownership checks (flaskr's get_post(id, check_author)): a row of the logged-in teacher, or 404.

Web layer only: services take a teacher id and never abort; these read current_user and answer 404 for a
missing row and for another teacher's alike, so ids cannot be probed.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from . import db
from .models import Course, FaceSample, Student


def _teacher_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def course_or_404(course_id: int) -> Course:
    """The current teacher's course, else 404."""
    course = db.session.get(Course, course_id)
    if course is None or course.teacher_id != _teacher_id():
        abort(404)
    return course


def student_or_404(student_id: int) -> Student:
    """The current teacher's student, else 404."""
    student = db.session.get(Student, student_id)
    if student is None or student.course.teacher_id != _teacher_id():
        abort(404)
    return student


def sample_or_404(student: Student, sample_id: int) -> FaceSample:
    """A face sample of this (already owner-checked) student, else 404."""
    sample = db.session.get(FaceSample, sample_id)
    if sample is None or sample.student_id != student.id:
        abort(404)
    return sample
