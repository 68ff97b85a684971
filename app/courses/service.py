"""Course rules: the only code that writes Course rows; ownership checks other areas import."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from sqlalchemy import func, select

from .. import db
from ..models import Course, FaceSample, Student
from ..storage import storage

log = logging.getLogger(__name__)


def list_courses(teacher_id: int) -> list[Course]:
    """A teacher's courses, newest first."""
    return list(db.session.scalars(
        select(Course).where(Course.teacher_id == teacher_id).order_by(Course.created_at.desc(), Course.id.desc())))


def course_counts(course_ids: list[int]) -> dict[int, tuple[int, int]]:
    """course id -> (students, face images), in two queries."""
    if not course_ids:
        return {}
    students = dict(db.session.execute(
        select(Student.course_id, func.count(Student.id)).where(Student.course_id.in_(course_ids))
        .group_by(Student.course_id)).all())
    images = dict(db.session.execute(
        select(Student.course_id, func.count(FaceSample.id)).join(FaceSample, FaceSample.student_id == Student.id)
        .where(Student.course_id.in_(course_ids)).group_by(Student.course_id)).all())
    return {cid: (students.get(cid, 0), images.get(cid, 0)) for cid in course_ids}


def create_course(teacher_id: int, name: str, features: str = "pixels") -> Course:
    """A new course for a teacher."""
    course = Course(teacher_id=teacher_id, name=name.strip(), features=features)
    db.session.add(course)
    db.session.commit()
    log.info("course %s created by teacher %s", course.id, teacher_id)
    return course


def update_course(course: Course, name: str, features: str) -> bool:
    """Rename a course and set its feature kind; True when the feature kind changed."""
    changed = course.features != features
    course.name = name.strip()
    course.features = features
    db.session.commit()
    return changed


def use_recognizer(course: Course, version: int | None, summary: dict[str, Any] | None) -> None:
    """Switch the course to a saved recognizer version (None: no recognizer); the DB says which one is current."""
    course.recognizer_version, course.recognizer_summary = version, summary
    db.session.commit()


def delete_course(course: Course, config: Mapping[str, Any]) -> None:
    """Delete a course with its students, their face images, its recognizers and its sessions' snapshots."""
    student_ids = [s.id for s in course.students]
    session_ids = [s.id for s in course.sessions]
    course_id = course.id
    db.session.delete(course)
    db.session.commit()
    # Files go after the commit: a failed commit must not leave rows pointing at deleted images.
    files = storage(config)
    for sid in student_ids:
        files.delete_student_chips(sid)
    files.delete_recognizers(course_id)
    for sid in session_ids:
        files.delete_session_snapshots(sid)
    # A training job still running notices the deletion when it saves (training.py) and keeps nothing.
    log.info("course %s deleted with %d students", course_id, len(student_ids))


def retrain_needed(course: Course, config: Mapping[str, Any]) -> str | None:
    """Why the course's trained recognizer cannot be used with this version's features, or None."""
    from ..pipeline import recognizer_path
    from ..vision.features import current_pipeline
    from ..vision.sidecar import RecognizerError, pipeline_mismatch, read_sidecar

    if not course.recognizer_version:
        return None
    kind = (course.recognizer_summary or {}).get("features") or course.features or "pixels"
    try:
        return pipeline_mismatch(read_sidecar(recognizer_path(config, course.id, course.recognizer_version)),
                                 current_pipeline(kind))
    except RecognizerError as exc:
        return str(exc)
