"""What Rollcall stores about a student, as one ZIP; erasing their face data; how long snapshots are kept."""
from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import func, select, union_all

from .. import db
from ..attendance.records import forget_student_snapshots
from ..courses.service import use_recognizer
from ..models import (AttendanceCorrection, AttendanceRecord, AttendanceSession, AuditEvent, Course,
                      Student, UnknownSighting)
from ..storage import storage
from ..students.service import drop_samples
from ..timezones import format_local

log = logging.getLogger(__name__)


def _iso(dt: datetime | None) -> str:
    return dt.replace(tzinfo=None).isoformat(timespec="seconds") + "Z" if dt else ""


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _identified_sightings(student_id: int) -> list[UnknownSighting]:
    """Unknown faces a teacher said were this student."""
    return list(db.session.scalars(select(UnknownSighting).where(UnknownSighting.reviewed_student_id == student_id)
                                   .order_by(UnknownSighting.seen_at)))


def export_student(student: Student, config: Mapping[str, Any], zone_name: str = "") -> bytes:
    """A ZIP: student.json (everything as data), records.csv, sightings.csv, photos/ and snapshots/."""
    stored = storage(config)
    records = db.session.execute(
        select(AttendanceRecord, AttendanceSession.started_at).join(AttendanceSession)
        .where(AttendanceRecord.student_id == student.id).order_by(AttendanceSession.started_at)).all()
    corrections = list(db.session.scalars(select(AttendanceCorrection).where(
        AttendanceCorrection.student_id == student.id).order_by(AttendanceCorrection.at)))
    sightings = _identified_sightings(student.id)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        files: list[str] = []
        for sample in student.samples:
            path = stored.chip_path(student.id, sample.filename)
            if path.is_file():
                zf.write(path, f"photos/{sample.filename}")
                files.append(f"photos/{sample.filename}")
        for snap in [r.snapshot for r, _ in records] + [s.snapshot for s in sightings]:
            path = stored.snapshot_file(snap)
            if path is not None:
                zf.write(path, f"snapshots/{snap.replace('/', '_')}")
                files.append(f"snapshots/{snap.replace('/', '_')}")
        zf.writestr("records.csv", _csv(
            [["session_id", "session_started_utc", "session_started_local", "status", "marked_by",
              "first_seen_utc", "score", "snapshot"]]
            + [[r.session_id, _iso(started), format_local(started, zone_name), "present" if r.present else "absent",
                r.marked_by, _iso(r.first_seen_at), "" if r.score is None else round(r.score, 3),
                r.snapshot or ""] for r, started in records]))
        zf.writestr("sightings.csv", _csv(
            [["sighting_id", "session_id", "seen_utc", "score", "snapshot"]]
            + [[s.id, s.session_id, _iso(s.seen_at), "" if s.score is None else round(s.score, 3), s.snapshot or ""]
               for s in sightings]))
        data = {
            "student": {"id": student.id, "name": student.name, "roll_number": student.roll_number,
                        "email": student.email, "created_utc": _iso(student.created_at),
                        "course": student.course.name},
            "face_photos": [{"file": f"photos/{s.filename}", "source": s.source, "created_utc": _iso(s.created_at)}
                            for s in student.samples],
            "attendance_records": len(records),
            "corrections": [{"session_id": c.session_id, "at_utc": _iso(c.at), "before": c.before, "after": c.after,
                             "reason": c.reason} for c in corrections],
            "identified_sightings": len(sightings),
            "files": files,
            "exported_utc": _iso(datetime.now(timezone.utc)),
        }
        zf.writestr("student.json", json.dumps(data, indent=2, ensure_ascii=False))
    return buf.getvalue()


def face_data_counts(student: Student) -> dict[str, int]:
    """What erasing would remove: photos, record snapshots, identified unknown-face snapshots."""
    return {
        "photos": len(student.samples),
        "snapshots": db.session.scalar(select(func.count(AttendanceRecord.id)).where(
            AttendanceRecord.student_id == student.id, AttendanceRecord.snapshot.is_not(None))) or 0,
        "sightings": sum(1 for s in _identified_sightings(student.id) if s.snapshot),
    }


def delete_face_data(student: Student, teacher_id: int, config: Mapping[str, Any]) -> dict[str, int]:
    """Remove the student's photos, chips and snapshots (files and references); audited. Marks stay."""
    counts = face_data_counts(student)
    # One transaction: the owners stage their rows' changes, this function commits them with the audit row.
    drop_samples(student)
    names = forget_student_snapshots(student.id)
    db.session.add(AuditEvent(teacher_id=teacher_id, course_id=student.course_id, action="face_data_deleted",
                              detail=f"student {student.id} ({student.roll_number}): {counts['photos']} photos, "
                                     f"{counts['snapshots'] + counts['sightings']} snapshots"))
    db.session.commit()
    files = storage(config)
    files.delete_student_chips(student.id)
    files.delete_snapshots(names)
    log.info("face data of student %s deleted: %s", student.id, counts)
    return counts


def forget_recognizer(course: Course, config: Mapping[str, Any]) -> None:
    """The course stops using its recognizer (it still holds a deleted student's face); files go with it."""
    use_recognizer(course, None, None)
    storage(config).delete_recognizer_files(course.id)


def retention(course: Course, days: int) -> dict[str, Any]:
    """How long snapshots are kept, the oldest one still kept and when it goes."""
    seen = union_all(
        select(AttendanceRecord.first_seen_at.label("at")).join(AttendanceSession)
        .where(AttendanceSession.course_id == course.id, AttendanceRecord.snapshot.is_not(None)),
        select(UnknownSighting.seen_at.label("at")).join(AttendanceSession)
        .where(AttendanceSession.course_id == course.id, UnknownSighting.snapshot.is_not(None)),
    ).subquery()
    oldest = db.session.scalar(select(func.min(seen.c.at)))
    if isinstance(oldest, str):  # SQLite returns MIN() over a UNION as text
        oldest = datetime.fromisoformat(oldest)
    return {"days": days, "oldest": oldest, "expires": oldest + timedelta(days=days) if oldest else None}
