"""Review loop: unknown faces and uncertain marks answered in one click, the snapshot becoming a training photo."""
from __future__ import annotations

import queue
from datetime import datetime, timezone
from pathlib import Path

import cv2
import pytest

from app import db
from app.attendance import service as attendance
from app.attendance.recorder import Recorder
from app.courses.training import train_course
from app.models import (AttendanceCorrection, AttendanceRecord, AttendanceSession, AuditEvent, Course, FaceSample,
                        UnknownSighting)
from app.pipeline import new_detector
from app.review import service as review
from app.vision.events import UnknownSeen
from app.vision.preprocess import face_chip
from conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector
from helpers_web import faces94_people, images_of, seed_student_chips
from reports_helpers import login, make_teacher

pytestmark = [needs_datasets, needs_detector]
EMAIL = "rev@example.com"


@pytest.fixture(scope="module")
def faces() -> list[list]:
    """Chips of 3 faces94 people: frames 0-7 to enroll, frames 12-13 as the camera's snapshots."""
    detector = new_detector({"DETECTOR_DIR": str(DETECTOR_DIR), "DETECTOR_PROTOTXT": "deploy.prototxt",
                             "DETECTOR_WEIGHTS": "res10_300x300_ssd_iter_140000.caffemodel",
                             "DETECTOR_MIN_CONFIDENCE": 0.5})
    people = []
    for person in faces94_people(DATASETS, 3):
        images = [cv2.imread(str(p)) for p in images_of(person, 14)]
        people.append([face_chip(img, detector.detect_padded(img)[0]) for img in images])
    return people


@pytest.fixture
def trained(app, client, faces) -> dict:
    """A logged-in teacher, a course of 3 enrolled students trained by the real training, one ended session."""
    teacher = make_teacher(app, EMAIL)
    login(client, EMAIL)
    with app.app_context():
        course = Course(teacher_id=teacher, name="Chemistry")
        db.session.add(course)
        db.session.commit()
        course_id = course.id
    ids = [seed_student_chips(app, course_id, f"R{i}", chips[:8]) for i, chips in enumerate(faces)]
    with app.app_context():
        summary = train_course(course_id, app.config)
        session_id = attendance.create_session(course_id, "room.avi", "room.avi", summary["version"])
        attendance.end_session(session_id)
    return {"course": course_id, "students": ids, "session": session_id, "images": summary["n_images"]}


def unknown_seen(app, session_id: int, chip, track: int = 1) -> int:
    """What the camera's recorder writes for an unknown track (real Recorder, real snapshot file)."""
    recorder = Recorder(app, queue.Queue())
    with app.app_context():
        recorder.handle(UnknownSeen(session_id, track, 0.62, datetime.now(timezone.utc), chip, email=False))
        return db.session.scalar(db.select(UnknownSighting.id).where(UnknownSighting.track_id == track))


def test_describe_match_is_a_sentence():
    assert review.describe_match("Ana", 0.41) == "looks most like Ana, 41% match"
    assert review.describe_match("Ana", 0.93, 0.962) == "looks most like Ana, 93% match (96% needed)"
    assert review.describe_match(None, 0.3) == "looks like nobody enrolled"


def test_record_unknown_keeps_the_closest_student(app, trained):
    with app.app_context():
        sighting = attendance.record_unknown(trained["session"], 9, 0.4, datetime.now(timezone.utc), None, None,
                                             email=False, best_label=trained["students"][1])
        assert db.session.get(UnknownSighting, sighting.id).best_label == trained["students"][1]


def test_unknown_sighting_is_identified_marked_present_and_becomes_a_training_photo(app, client, trained, faces):
    ana = trained["students"][1]
    sighting = unknown_seen(app, trained["session"], faces[1][12])

    # The review page names the closest student (filled from the recognizer and the snapshot) in a sentence.
    page = client.get(f"/review/sessions/{trained['session']}").get_data(as_text=True)
    assert "Unknown face" in page and "looks most like Student R1," in page and "% needed)" in page
    assert f"This is Student R1" in page
    # Meanwhile the session table says Ana is absent although a face like hers waits for review.
    table = client.get(f"/reports/sessions/{trained['session']}").get_data(as_text=True)
    assert "a face like them waits for review" in table and "Review (1 waiting)" in table
    assert "Looks most like Student R1" in table  # the unknown-face card: a sentence, not "score 0.62"

    response = client.post(f"/review/sessions/{trained['session']}/sighting/{sighting}",
                           data={"answer": "student", "student_id": ana}, follow_redirects=True)
    assert "Student R1 is marked present; the face was added to their training photos." in response.get_data(as_text=True)
    with app.app_context():
        record = db.session.scalar(db.select(AttendanceRecord).where(AttendanceRecord.student_id == ana))
        assert record.present and record.marked_by == "teacher"
        correction = db.session.scalar(db.select(AttendanceCorrection).where(AttendanceCorrection.student_id == ana))
        assert correction.before == "absent" and correction.after == "present" and "review" in correction.reason
        assert db.session.get(UnknownSighting, sighting).review == "student"
        added = db.session.scalars(db.select(FaceSample).where(FaceSample.student_id == ana,
                                                               FaceSample.source == "review")).all()
        assert len(added) == 1
        assert (Path(app.config["DATASET_DIR"]) / str(ana) / added[0].filename).is_file()
        assert review.chips_since_training(db.session.get(Course, trained["course"])) == 1
    assert "waits for review" not in client.get(f"/reports/sessions/{trained['session']}").get_data(as_text=True)
    course_page = client.get(f"/courses/{trained['course']}").get_data(as_text=True)
    assert "1 photo added from reviews since the last training" in course_page

    # Retraining uses the added photo, and then nothing counts as added since the last training.
    with app.app_context():
        summary = train_course(trained["course"], app.config)
        assert summary["n_images"] == trained["images"] + 1
        assert review.chips_since_training(db.session.get(Course, trained["course"])) == 0


def test_stranger_and_ignore_close_the_sighting_with_an_audit_row(app, client, trained, faces):
    first = unknown_seen(app, trained["session"], faces[0][12], track=1)
    second = unknown_seen(app, trained["session"], faces[2][12], track=2)
    url = f"/review/sessions/{trained['session']}/sighting"
    assert "Confirmed as a stranger." in client.post(f"{url}/{first}", data={"answer": "stranger"},
                                                     follow_redirects=True).get_data(as_text=True)
    client.post(f"{url}/{second}", data={"answer": "ignored"})
    again = client.post(f"{url}/{second}", data={"answer": "stranger"}, follow_redirects=True)
    assert "already reviewed" in again.get_data(as_text=True)
    with app.app_context():
        assert [s.review for s in db.session.scalars(db.select(UnknownSighting).order_by(UnknownSighting.id))] == \
            ["stranger", "ignored"]
        assert sorted(db.session.scalars(db.select(AuditEvent.action))) == ["review_ignored", "review_stranger"]
        assert db.session.scalar(db.select(db.func.count(AttendanceRecord.id))) == 0
        assert db.session.scalar(db.select(db.func.count(FaceSample.id)).where(FaceSample.source == "review")) == 0
    assert "Nothing to review" in client.get(f"/review/sessions/{trained['session']}").get_data(as_text=True)


def _mark(app, trained, student: int, share: float, reason: str | None = None) -> int:
    """A camera mark scored `share` of the way from the recognizer's threshold to 1.0."""
    with app.app_context():
        threshold = review.threshold_of(db.session.get(Course, trained["course"]))
        score = threshold + share * (1 - threshold)
        assert attendance.mark_present(trained["session"], student, score, datetime.now(timezone.utc),
                                       None, review_reason=reason)
        return db.session.scalar(db.select(AttendanceRecord.id).where(AttendanceRecord.student_id == student))


def test_uncertain_marks_are_listed_by_score_or_by_the_recorders_flag(app, client, trained):
    s0, s1, s2 = trained["students"]
    low = _mark(app, trained, s0, 0.1)  # just over the threshold: within REVIEW_SCORE_MARGIN (0.25)
    _mark(app, trained, s1, 0.4)  # clearly over: not listed
    flagged = _mark(app, trained, s2, 0.9, reason="flickering track")
    page = client.get(f"/review/sessions/{trained['session']}").get_data(as_text=True)
    assert f'id="record-{low}"' in page and "Low score" in page and "marked Student R0" in page
    assert f'id="record-{flagged}"' in page and "Flickering track" in page
    assert page.count('class="review-item"') == 2


def test_an_uncertain_mark_of_the_wrong_student_moves_to_the_right_one(app, client, trained):
    s0, s1, _ = trained["students"]
    low = _mark(app, trained, s0, 0.1)
    response = client.post(f"/review/sessions/{trained['session']}/record/{low}",
                           data={"answer": "student", "student_id": s1}, follow_redirects=True)
    assert "Student R1 marked present, Student R0 absent" in response.get_data(as_text=True)
    with app.app_context():
        marks = dict(db.session.execute(db.select(AttendanceRecord.student_id, AttendanceRecord.present)).all())
        assert marks == {s0: False, s1: True}
        assert db.session.scalar(db.select(db.func.count(AttendanceCorrection.id))) == 2


def test_an_uncertain_mark_that_was_a_stranger_becomes_absent(app, client, trained):
    s0 = trained["students"][0]
    low = _mark(app, trained, s0, 0.1)
    client.post(f"/review/sessions/{trained['session']}/record/{low}", data={"answer": "stranger"})
    with app.app_context():
        record = db.session.get(AttendanceRecord, low)
        assert not record.present and record.review == "corrected"


def test_review_is_the_teachers_own(app, client, trained, faces):
    sighting = unknown_seen(app, trained["session"], faces[0][12])
    client.post("/auth/logout")
    make_teacher(app, "other@example.com")
    login(client, "other@example.com")
    assert client.get(f"/review/sessions/{trained['session']}").status_code == 404
    assert client.post(f"/review/sessions/{trained['session']}/sighting/{sighting}",
                       data={"answer": "stranger"}).status_code == 404


def test_faces_can_be_reviewed_while_the_session_runs(app, client, trained, faces):
    with app.app_context():
        running = attendance.create_session(trained["course"], "0", "webcam 0", 1)
    sighting = unknown_seen(app, running, faces[2][13], track=5)
    page = client.get(f"/review/sessions/{running}").get_data(as_text=True)
    assert "The session is still running" in page and f'id="sighting-{sighting}"' in page
    client.post(f"/review/sessions/{running}/sighting/{sighting}",
                data={"answer": "student", "student_id": trained["students"][2]})
    with app.app_context():
        assert db.session.scalar(db.select(AttendanceRecord.present).where(AttendanceRecord.session_id == running))
        assert db.session.get(AttendanceSession, running).status == "running"
