"""Student rules: the only code that writes Student and FaceSample rows (enrollment writes samples too)."""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import db
from ..models import Course, FaceSample, Student
from ..storage import storage
from ..text import EMAIL_PATTERN, control_char_message, has_control_chars

log = logging.getLogger(__name__)

ROSTER_MAX_ROWS = 2000


class StudentError(ValueError):
    """A student change refused; the message is shown to the teacher."""


def sample_counts(course: Course) -> dict[int, int]:
    """student id -> number of stored face images, one query."""
    rows = db.session.execute(
        select(FaceSample.student_id, func.count(FaceSample.id)).join(Student)
        .where(Student.course_id == course.id).group_by(FaceSample.student_id)).all()
    return dict(rows)


def _check_roll_free(course_id: int, roll_number: str, student_id: int | None = None) -> None:
    query = select(Student.id).where(Student.course_id == course_id, Student.roll_number == roll_number)
    other = db.session.scalar(query)
    if other is not None and other != student_id:
        raise StudentError(f"Roll number {roll_number} is already used in this course.")


def create_student(course: Course, name: str, roll_number: str, email: str | None) -> Student:
    """A new student in a course; roll numbers are unique within the course."""
    roll_number = roll_number.strip()
    _check_roll_free(course.id, roll_number)
    student = Student(course_id=course.id, name=name.strip(), roll_number=roll_number,
                      email=(email or "").strip() or None)
    db.session.add(student)
    _commit_roll(roll_number)
    return student


def update_student(student: Student, name: str, roll_number: str, email: str | None) -> None:
    """Change a student's details."""
    roll_number = roll_number.strip()
    _check_roll_free(student.course_id, roll_number, student.id)
    student.name, student.roll_number, student.email = name.strip(), roll_number, (email or "").strip() or None
    _commit_roll(roll_number)


def _commit_roll(roll_number: str) -> None:
    """Commit; two saves of one roll number at once meet the unique constraint: say so, do not 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise StudentError(f"Roll number {roll_number} is already used in this course.") from None


def delete_student(student: Student, config: Mapping[str, Any]) -> None:
    """Delete a student with all their face images."""
    student_id = student.id
    db.session.delete(student)
    db.session.commit()
    storage(config).delete_student_chips(student_id)
    log.info("student %s deleted", student_id)


def delete_sample(sample: FaceSample, config: Mapping[str, Any]) -> None:
    """Delete one face image (row and file)."""
    db.session.delete(sample)
    db.session.commit()
    storage(config).delete_chip(sample.student_id, sample.filename)


def confirm_sample(sample: FaceSample) -> None:
    """Clear a face image's look-alike flag (the teacher says it is this student)."""
    sample.looks_like_id = None
    db.session.commit()


def look_alike_names(student: Student) -> dict[int, str]:
    """student id -> name, for the students this student's flagged face images look like."""
    ids = {s.looks_like_id for s in student.samples if s.looks_like_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Student.id, Student.name).where(
        Student.id.in_(ids), Student.course_id == student.course_id)).all())


@dataclass
class RosterResult:
    """Rows created and, per bad row, its line number and what is wrong."""

    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_roster(course: Course, text: str) -> RosterResult:
    """Create students from CSV rows (name, roll number, email); bad rows are reported, good ones kept."""
    result = RosterResult()
    taken = set(db.session.scalars(select(Student.roll_number).where(Student.course_id == course.id)))
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # e.g. one cell over csv's 128 KB field limit, or a NUL byte
        raise StudentError(f"The file is not a readable CSV roster ({exc}). Save it again from your "
                           "spreadsheet as “CSV UTF-8” with one student per row.") from None
    if rows and [c.strip().lower().replace(" ", "_") for c in rows[0][:2]] in (["name", "roll_number"], ["name", "roll"]):
        rows = [None, *rows[1:]]  # keep line numbers right after dropping the header
    if len(rows) > ROSTER_MAX_ROWS:
        raise StudentError(f"The file has more than {ROSTER_MAX_ROWS} rows; split it into smaller files.")
    for line, row in enumerate(rows, start=1):
        if row is None or not any(cell.strip() for cell in row):
            continue
        cells = [c.strip() for c in row] + ["", ""]
        name, roll, email = cells[0], cells[1], cells[2]
        problem = _roster_row_problem(name, roll, email, taken, len(row))
        if problem:
            result.errors.append((line, problem))
            continue
        db.session.add(Student(course_id=course.id, name=name, roll_number=roll, email=email or None))
        taken.add(roll)
        result.created += 1
    try:
        db.session.commit()
    except IntegrityError:  # a student with one of these roll numbers was added meanwhile
        db.session.rollback()
        raise StudentError("Another change to this course's students happened at the same time; "
                           "nothing from this file was imported. Import it again.") from None
    return result


def _roster_row_problem(name: str, roll: str, email: str, taken: set[str], n_cells: int) -> str | None:
    if n_cells > 3:
        return f"expected 3 columns (name, roll number, email), found {n_cells}"
    if not name:
        return "name is missing"
    if not roll:
        return "roll number is missing"
    if len(name) > 200 or len(roll) > 50:
        return "name or roll number is too long"
    if has_control_chars(name) or has_control_chars(roll) or has_control_chars(email):
        return control_char_message("name, roll number and email each")
    if email and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        return f"email {email!r} is not valid"
    if roll in taken:
        return f"roll number {roll} is already used in this course"
    return None


def find_or_create_student(course: Course, label: str) -> tuple[Student, bool]:
    """The student whose roll number or name is `label` (bulk folders), creating one if none matches."""
    label = label.strip()
    student = db.session.scalar(select(Student).where(Student.course_id == course.id, Student.roll_number == label))
    if student is None:
        student = db.session.scalar(select(Student).where(
            Student.course_id == course.id, func.lower(Student.name) == label.lower()))
    if student is not None:
        return student, False
    student = Student(course_id=course.id, name=label[:200], roll_number=label[:50])
    db.session.add(student)
    db.session.commit()
    return student, True


def drop_samples(student: Student) -> None:
    """Stage the deletion of every FaceSample row of a student (the caller commits; files go after)."""
    for sample in list(student.samples):
        db.session.delete(sample)
