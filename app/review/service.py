"""Review queue of a session: unknown sightings and uncertain marks, and the one-click answers to them."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, func, or_, select

from .. import db
from ..models import AttendanceRecord, AttendanceSession, AuditEvent, Course, FaceSample, Student, UnknownSighting
from ..attendance.records import CorrectionError, note_review, set_best_label, set_mark
from ..storage import storage
from ..students.enrollment import store_chip

log = logging.getLogger(__name__)

LOW_SCORE = "low score"
STUDENT, STRANGER, IGNORED = "student", "stranger", "ignored"


class ReviewError(ValueError):
    """A review answer that cannot be applied; the message is for the teacher."""


@dataclass
class ReviewItem:
    """One thing to look at: an unknown face (kind "sighting") or a camera mark (kind "record")."""

    kind: str
    id: int
    seen_at: datetime | None
    snapshot: str | None
    sentence: str
    reason: str
    student_id: int | None = None  # the marked student (records) or the closest one (sightings)


def threshold_of(course: Course) -> float | None:
    """The unknown-rejection threshold of the recognizer in use."""
    summary = course.recognizer_summary or {}
    return (summary.get("operating_point") or {}).get("threshold")


def describe_match(name: str | None, score: float | None, threshold: float | None = None) -> str:
    """"looks most like Ana, 41% match (96% needed)" instead of a raw score."""
    if name is None:
        return "looks like nobody enrolled"
    if score is None:
        return f"looks most like {name}"
    # Similarities of different people are often high: the bar the camera uses puts the number in context.
    needed = f" ({_pct(threshold)} needed)" if threshold is not None and 0 < threshold < 1 else ""
    return f"looks most like {name}, {_pct(score)} match{needed}"


def _pct(value: float) -> str:
    return f"{max(0.0, min(1.0, value)) * 100:.0f}%"


def uncertain_clause(course: Course, margin: float):
    """Camera marks a teacher should look at: flagged by the recorder, or scored just over the threshold.

    "Just over" is the lowest `margin` share of the room between the threshold and a perfect 1.0: scores
    cluster near 1 when the threshold is high (0.97 on faces94), so a fixed step would flag every mark."""
    threshold = threshold_of(course)
    flagged = AttendanceRecord.review_reason.is_not(None)
    if threshold is None or threshold >= 1:
        return flagged
    bar = threshold + margin * (1.0 - max(0.0, threshold))
    return or_(flagged, and_(AttendanceRecord.score.is_not(None), AttendanceRecord.score < bar))


def pending_items(session: AttendanceSession, config: Mapping[str, Any]) -> list[ReviewItem]:
    """Waiting sightings (oldest first) then uncertain camera marks, each with a sentence."""
    fill_best_labels(session, config)
    names = dict(db.session.execute(
        select(Student.id, Student.name).where(Student.course_id == session.course_id)).all())
    threshold = threshold_of(session.course)
    items = [ReviewItem("sighting", s.id, s.seen_at, s.snapshot,
                        describe_match(names.get(s.best_label), s.score, threshold),
                        "unknown face", s.best_label)
             for s in db.session.scalars(select(UnknownSighting).where(
                 UnknownSighting.session_id == session.id, UnknownSighting.review == "pending")
                 .order_by(UnknownSighting.seen_at, UnknownSighting.id))]
    records = db.session.scalars(select(AttendanceRecord).where(
        AttendanceRecord.session_id == session.id, AttendanceRecord.marked_by == "camera",
        AttendanceRecord.present.is_(True), AttendanceRecord.review == "",
        uncertain_clause(session.course, float(config["REVIEW_SCORE_MARGIN"])))
        .order_by(AttendanceRecord.first_seen_at, AttendanceRecord.id))
    items += [ReviewItem("record", r.id, r.first_seen_at, r.snapshot,
                         f"marked {names.get(r.student_id, '?')}" + (f", {_pct(r.score)} match" if r.score is not None else ""),
                         r.review_reason or LOW_SCORE, r.student_id) for r in records]
    return items


def pending_count(session_id: int) -> int:
    """Unknown sightings of the session still waiting for the teacher (for links and badges)."""
    return db.session.scalar(select(func.count(UnknownSighting.id)).where(
        UnknownSighting.session_id == session_id, UnknownSighting.review == "pending")) or 0


def absent_with_pending(session: AttendanceSession) -> set[int]:
    """Students absent in the session although a waiting sighting looks most like them."""
    present = select(AttendanceRecord.student_id).where(AttendanceRecord.session_id == session.id,
                                                        AttendanceRecord.present.is_(True))
    return set(db.session.scalars(select(UnknownSighting.best_label).where(
        UnknownSighting.session_id == session.id, UnknownSighting.review == "pending",
        UnknownSighting.best_label.is_not(None), UnknownSighting.best_label.not_in(present))))


def fill_best_labels(session: AttendanceSession, config: Mapping[str, Any]) -> int:
    """Sightings recorded without their closest student get it from the recognizer and their snapshot."""
    missing = list(db.session.scalars(select(UnknownSighting).where(
        UnknownSighting.session_id == session.id, UnknownSighting.best_label.is_(None),
        UnknownSighting.snapshot.is_not(None), UnknownSighting.review == "pending")))
    version = session.recognizer_version or session.course.recognizer_version
    if not missing or not version:
        return 0
    from ..pipeline import load_recognizer
    from ..vision.features import get_extractor

    chips = [(s, storage(config).read_snapshot(s.snapshot)) for s in missing]
    chips = [(s, c) for s, c in chips if c is not None]
    if not chips:
        return 0
    try:
        recognizer = load_recognizer(config, session.course_id, version)
        predictions = recognizer.predict(get_extractor(session.course.features).from_chips([c for _, c in chips]))
    except Exception:  # noqa: BLE001  (a missing or stale recognizer only costs the sentence its name)
        log.exception("session %s: cannot name the closest student of its unknown faces", session.id)
        return 0
    enrolled = set(db.session.scalars(select(Student.id).where(Student.course_id == session.course_id)))
    for (sighting, _), prediction in zip(chips, predictions):
        if prediction.best_label in enrolled:
            set_best_label(sighting, int(prediction.best_label), prediction.score)
    db.session.commit()
    return len(chips)


def _audit(teacher_id: int, course_id: int, action: str, detail: str) -> None:
    db.session.add(AuditEvent(teacher_id=teacher_id, course_id=course_id, action=action, detail=detail[:2000]))


def _student_in(session: AttendanceSession, student_id: int | None) -> Student:
    student = db.session.get(Student, student_id) if student_id else None
    if student is None or student.course_id != session.course_id:
        raise ReviewError("Choose a student of this course.")
    return student


def _add_training_chip(student: Student, snapshot: str | None, config: Mapping[str, Any]) -> FaceSample | None:
    """The snapshot becomes one of the student's training photos (committed with pending changes)."""
    chip = storage(config).read_snapshot(snapshot)
    if chip is None:
        db.session.commit()
        return None
    return store_chip(student.id, chip, config, source="review")


def _ensure_present(session: AttendanceSession, student: Student, teacher_id: int, reason: str) -> bool:
    """Mark present through the audited correction unless the student already is; True if it changed."""
    try:
        set_mark(session.id, student.id, teacher_id, True, reason)
    except CorrectionError:
        present = db.session.scalar(select(AttendanceRecord.present).where(
            AttendanceRecord.session_id == session.id, AttendanceRecord.student_id == student.id))
        if not present:
            raise
        return False
    return True


def answer_sighting(session: AttendanceSession, sighting_id: int, answer: str, teacher_id: int,
                    config: Mapping[str, Any], student_id: int | None = None) -> str:
    """"this is <student>" / "stranger" / "ignore" for an unknown face; returns what happened, for a flash."""
    sighting = db.session.get(UnknownSighting, sighting_id)
    if sighting is None or sighting.session_id != session.id:
        raise ReviewError("That face is not part of this session.")
    if sighting.review != "pending":
        raise ReviewError("That face was already reviewed.")
    now = datetime.now(timezone.utc)
    if answer == STUDENT:
        student = _student_in(session, student_id)
        what = f"unknown face #{sighting.id} is {student.name}"
        changed = _ensure_present(session, student, teacher_id, f"review: {what}")
        note_review(sighting, STUDENT, now, student.id)
        _audit(teacher_id, session.course_id, "review_student", f"session {session.id}: {what}")
        sample = _add_training_chip(student, sighting.snapshot, config)
        return (f"{student.name} is marked present" if changed else f"{student.name} was already present") + \
            ("; the face was added to their training photos." if sample else ".")
    if answer not in (STRANGER, IGNORED):
        raise ReviewError("Unknown answer.")
    note_review(sighting, answer, now)
    _audit(teacher_id, session.course_id, f"review_{answer}", f"session {session.id} sighting {sighting.id}")
    db.session.commit()
    return "Confirmed as a stranger." if answer == STRANGER else "Ignored."


def answer_record(session: AttendanceSession, record_id: int, answer: str, teacher_id: int,
                  config: Mapping[str, Any], student_id: int | None = None) -> str:
    """Review of an uncertain camera mark: right student, another student, a stranger, or ignore."""
    record = db.session.get(AttendanceRecord, record_id)
    if record is None or record.session_id != session.id:
        raise ReviewError("That mark is not part of this session.")
    if record.review:
        raise ReviewError("That mark was already reviewed.")
    marked = record.student
    now = datetime.now(timezone.utc)
    if answer == STUDENT:
        student = _student_in(session, student_id)
        if student.id != marked.id:
            _ensure_present(session, student, teacher_id,
                            f"review: the camera's mark of {marked.name} was {student.name}")
            set_mark(session.id, marked.id, teacher_id, False,
                     f"review: the camera saw {student.name}, not {marked.name}")
        record = db.session.get(AttendanceRecord, record_id)
        note_review(record, "confirmed" if student.id == marked.id else "corrected", now)
        _audit(teacher_id, session.course_id, "review_student",
               f"session {session.id} mark {record.id}: {student.name}")
        sample = _add_training_chip(student, record.snapshot, config)
        verdict = (f"{marked.name} confirmed" if student.id == marked.id
                   else f"{student.name} marked present, {marked.name} absent")
        return verdict + ("; the face was added to their training photos." if sample else ".")
    if answer == STRANGER:
        set_mark(session.id, marked.id, teacher_id, False, f"review: the camera's mark of {marked.name} was a stranger")
        record = db.session.get(AttendanceRecord, record_id)
        note_review(record, "corrected", now)
        _audit(teacher_id, session.course_id, "review_stranger", f"session {session.id} mark {record.id}")
        db.session.commit()
        return f"{marked.name} marked absent: the face was a stranger."
    if answer != IGNORED:
        raise ReviewError("Unknown answer.")
    note_review(record, IGNORED, now)
    _audit(teacher_id, session.course_id, "review_ignored", f"session {session.id} mark {record.id}")
    db.session.commit()
    return "Ignored."


def chips_since_training(course: Course) -> int:
    """Review photos added to the course's students after its recognizer was last trained."""
    trained_at = (course.recognizer_summary or {}).get("trained_at")
    stmt = select(func.count(FaceSample.id)).join(Student).where(
        Student.course_id == course.id, FaceSample.source == "review")
    if trained_at:
        stmt = stmt.where(FaceSample.created_at > datetime.fromisoformat(trained_at).replace(tzinfo=None))
    return db.session.scalar(stmt) or 0
