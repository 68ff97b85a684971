"""A student's personal data: one ZIP with everything stored, erasing their face data, snapshot retention."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from app import db, jobs
from app.models import AttendanceRecord, AuditEvent, Course, FaceSample, Job, UnknownSighting
from helpers_web import course_of, student_with_chip
from reports_helpers import login, make_teacher, seed_course


def _snapshots(app, seeded: dict) -> None:
    """Write the snapshot files the seeded records and sighting point at."""
    with app.app_context():
        names = db.session.scalars(db.select(AttendanceRecord.snapshot).where(AttendanceRecord.snapshot.is_not(None)))
        names = list(names) + list(db.session.scalars(db.select(UnknownSighting.snapshot)))
    for name in names:
        path = Path(app.config["SNAPSHOT_DIR"]) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8jpeg " + name.encode() + b"\xff\xd9")


def _seeded_with_photos(app, client) -> dict:
    teacher = make_teacher(app, "a@example.com")
    seeded = seed_course(app, teacher)
    login(client, "a@example.com")
    _snapshots(app, seeded)
    r01 = seeded["students"]["R01"]
    folder = Path(app.config["DATASET_DIR"]) / str(r01)
    folder.mkdir(parents=True)
    with app.app_context():
        for k in range(3):
            (folder / f"p{k}.png").write_bytes(b"\x89PNG fake " + bytes([k]))
            db.session.add(FaceSample(student_id=r01, filename=f"p{k}.png", source="photo"))
        # An unknown face the teacher identified as R01 is their data too.
        sighting = db.session.scalar(db.select(UnknownSighting))
        sighting.reviewed_student_id, sighting.review = r01, "student"
        db.session.commit()
    return seeded


def test_the_export_holds_photos_snapshots_records_and_corrections(app, client):
    seeded = _seeded_with_photos(app, client)
    r01 = seeded["students"]["R01"]
    client.post(f"/reports/sessions/{seeded['sessions'][1]}/students/{r01}/mark",
                data={"mark": "absent", "reason": "left early"})
    response = client.get(f"/privacy/students/{r01}/export.zip")
    assert response.mimetype == "application/zip" and "rollcall-student" in response.headers["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(zf.namelist())
    assert {"photos/p0.png", "photos/p1.png", "photos/p2.png", "records.csv", "sightings.csv", "student.json"} <= names
    snapshots = sorted(n for n in names if n.startswith("snapshots/"))
    assert len(snapshots) == 4  # three marks with a snapshot + the identified unknown face
    assert zf.read("photos/p1.png") == b"\x89PNG fake \x01"
    records = list(csv.DictReader(io.StringIO(zf.read("records.csv").decode("utf-8-sig"))))
    assert [r["status"] for r in records] == ["present", "absent", "present"]
    assert records[0]["first_seen_utc"] == "2026-01-05T09:03:00Z"
    data = json.loads(zf.read("student.json"))
    assert data["student"]["roll_number"] == "R01" and len(data["face_photos"]) == 3
    assert data["corrections"][0]["reason"] == "left early"
    # Nobody else's photos or snapshots are in it.
    assert not any("student_R02" in n for n in names)


def test_erasing_face_data_asks_first_then_deletes_files_and_references(app, client):
    seeded = _seeded_with_photos(app, client)
    r01 = seeded["students"]["R01"]
    page = client.get(f"/privacy/students/{r01}/erase").get_data(as_text=True)
    assert "3 training photos" in page and "3 camera snapshots" in page and "1 unknown-face snapshot" in page
    refused = client.post(f"/privacy/students/{r01}/erase", follow_redirects=True).get_data(as_text=True)
    assert "Tick the box to confirm" in refused
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(FaceSample.id))) == 3
    done = client.post(f"/privacy/students/{r01}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "Deleted Student R01&#39;s face data: 3 photos and 4 snapshots." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(FaceSample.id))) == 0
        assert db.session.scalar(db.select(db.func.count(AttendanceRecord.id)).where(
            AttendanceRecord.student_id == r01, AttendanceRecord.snapshot.is_not(None))) == 0
        assert db.session.scalar(db.select(UnknownSighting.snapshot)) is None
        assert db.session.scalar(db.select(db.func.count(AttendanceRecord.id)).where(
            AttendanceRecord.student_id == r01)) == 3  # the marks are records, not face data: they stay
        assert db.session.scalar(db.select(AuditEvent.action)) == "face_data_deleted"
    assert not (Path(app.config["DATASET_DIR"]) / str(r01)).exists()
    kept = sorted(p.name for p in Path(app.config["SNAPSHOT_DIR"]).rglob("*.jpg"))
    assert kept and all("R01" not in name and "unknown" not in name for name in kept)


def test_erasing_retrains_the_course_or_drops_a_recognizer_it_cannot_replace(app, client, auth):
    auth.signup_and_login()
    course_id = course_of(app)
    ids = [student_with_chip(app, course_id, roll=str(i), name=f"S{i}")[0] for i in range(3)]
    with app.app_context():
        for sid in ids:
            db.session.add(FaceSample(student_id=sid, filename="b.png", source="photo"))
        course = db.session.get(Course, course_id)
        course.recognizer_version, course.recognizer_summary = 1, {"trained_at": "2026-01-05T09:00:00"}
        db.session.commit()
    folder = Path(app.config["RECOGNIZER_DIR"]) / f"course_{course_id}"
    folder.mkdir(parents=True)
    (folder / "v1.joblib").write_bytes(b"old")
    # Two students with photos remain: a training job is queued.
    page = client.post(f"/privacy/students/{ids[0]}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "The course is retraining without them." in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(Job.kind).where(Job.course_id == course_id)) == "train"
    # Then only one remains: the old recognizer (which knows the erased face) is removed.
    page = client.post(f"/privacy/students/{ids[1]}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "the course&#39;s recognizer was removed" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Course, course_id).recognizer_version is None
    assert not (folder / "v1.joblib").exists()
    jobs.shutdown(app, 5)


def test_the_student_page_offers_export_and_erase(client, auth, app):
    auth.signup_and_login()
    student_id, _ = student_with_chip(app, course_of(app))
    page = client.get(f"/students/{student_id}").get_data(as_text=True)
    assert f'href="/privacy/students/{student_id}/export.zip"' in page and "Delete face data" in page


def test_another_teacher_cannot_export_or_erase(app, client):
    seeded = _seeded_with_photos(app, client)
    client.post("/auth/logout")
    make_teacher(app, "b@example.com")
    login(client, "b@example.com")
    r01 = seeded["students"]["R01"]
    assert client.get(f"/privacy/students/{r01}/export.zip").status_code == 404
    assert client.post(f"/privacy/students/{r01}/erase", data={"confirm": "yes"}).status_code == 404


def test_the_course_page_says_how_long_snapshots_are_kept_and_when_the_oldest_goes(app, client):
    app.config["SNAPSHOT_RETENTION_DAYS"] = 30
    seeded = _seeded_with_photos(app, client)
    page = client.get(f"/courses/{seeded['course']}").get_data(as_text=True)
    assert "Face snapshots are kept 30 days, then deleted." in page
    assert "The oldest is from 2026-01-05 09:03 and goes on 2026-02-04." in page
    with app.app_context():
        db.session.execute(db.update(AttendanceRecord).values(snapshot=None))
        db.session.execute(db.update(UnknownSighting).values(snapshot=None))
        db.session.commit()
    assert "None are stored now." in client.get(f"/courses/{seeded['course']}").get_data(as_text=True)
