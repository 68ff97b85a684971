"""Training: background job with progress, versions, isolation between courses, every error path."""
from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from app import db, jobs
from app.models import Course, FaceSample, Job
from app.pipeline import load_recognizer, new_detector, recognizer_path
from app.vision.features import get_extractor
from app.vision.preprocess import face_chip
from app.vision.recognizer import RecognizerError
from conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector
from helpers_web import course_of, faces94_people, images_of, seed_student_chips

pytestmark = [needs_datasets, needs_detector]

N_PEOPLE, N_IMAGES = 4, 6


@pytest.fixture(scope="module")
def chips() -> list[list]:
    """Detected face chips of 4 faces94 people, 6 each (made once for the module)."""
    detector = new_detector({"DETECTOR_DIR": str(DETECTOR_DIR), "DETECTOR_PROTOTXT": "deploy.prototxt",
                             "DETECTOR_WEIGHTS": "res10_300x300_ssd_iter_140000.caffemodel",
                             "DETECTOR_MIN_CONFIDENCE": 0.5})
    people = []
    for person in faces94_people(DATASETS, N_PEOPLE):
        images = [cv2.imread(str(p)) for p in images_of(person, N_IMAGES)]
        people.append([face_chip(img, detector.detect_padded(img)[0]) for img in images])
    return people


@pytest.fixture
def course(client, auth, app) -> int:
    auth.signup_and_login()
    return course_of(app)


def _train(client, app, course_id: int) -> Job:
    response = client.post(f"/courses/{course_id}/train")
    assert response.status_code == 302
    jobs.run_pending(app)
    with app.app_context():
        return db.session.scalar(db.select(Job).where(Job.course_id == course_id).order_by(Job.id.desc()))


def _course(app, course_id: int) -> Course:
    with app.app_context():
        course = db.session.get(Course, course_id)
        db.session.expunge(course)
        return course


def test_training_job_trains_saves_and_reports(client, app, course, chips):
    ids = [seed_student_chips(app, course, str(i), c) for i, c in enumerate(chips)]
    late = seed_student_chips(app, course, "late", chips[0][:1])  # one image: left out, listed
    response = client.post(f"/courses/{course}/train")
    job_url = response.headers["Location"]
    assert "Training the recognizer" in client.get(job_url).data.decode()
    assert jobs.run_pending(app) == 1
    page = client.get(job_url).data.decode()
    assert "Trained on 4 students and 24 images" in page
    saved = _course(app, course)
    assert saved.recognizer_version == 1
    summary = saved.recognizer_summary
    assert summary["n_students"] == 4 and summary["n_images"] == 24 and summary["features"] == "pixels"
    assert summary["cv_accuracy"] >= 0.9
    assert summary["operating_point"]["method"] == "impostor-far"
    assert {s["student_id"] for s in summary["few_images"]} == set(ids)  # 6 < 8 recommended
    assert summary["skipped"] == [{"student_id": late, "name": "Student late", "images": 1}]
    assert "Left out (fewer than 2 images): Student late (1)" in page
    assert summary["trained_at"]
    rec = load_recognizer(app.config, course, 1)
    X = get_extractor("pixels").from_chips([chips[1][0]])
    assert rec.predict(X)[0].best_label == ids[1]
    detail = client.get(f"/courses/{course}").data.decode()
    assert "v1" in detail and "Retrain" in detail
    # Retraining makes version 2 and keeps version 1's files.
    assert _train(client, app, course).status == "done"
    assert _course(app, course).recognizer_version == 2
    assert recognizer_path(app.config, course, 1).is_file() and recognizer_path(app.config, course, 2).is_file()


def test_training_one_course_leaves_another_alone(client, app, course, chips):
    other = course_of(app, name="Other")
    other_model = recognizer_path(app.config, other, 1)
    other_model.parent.mkdir(parents=True)
    other_model.write_bytes(b"other course's recognizer")
    for i, c in enumerate(chips[:2]):
        seed_student_chips(app, course, str(i), c)
    assert _train(client, app, course).status == "done"
    assert other_model.read_bytes() == b"other course's recognizer"
    assert sorted(p.name for p in other_model.parent.iterdir()) == ["v1.joblib"]
    assert _course(app, other).recognizer_version is None


@pytest.mark.parametrize("setup, message", [
    ("none", "at least 2 students with at least 2 face images each; this course has 0"),
    ("one", "at least 2 students with at least 2 face images each; this course has 1"),
    ("few", "Too few: Student 1 (1)"),
    ("missing_files", "Too few: Student 1 (0)"),
    ("features", "Cannot compute 'nope' features"),
])
def test_training_errors_say_what_to_do(client, app, course, chips, setup, message):
    if setup != "none":
        seed_student_chips(app, course, "0", chips[0])
    if setup in ("few", "missing_files", "features"):
        sid = seed_student_chips(app, course, "1", chips[1][:1] if setup == "few" else chips[1])
        if setup == "missing_files":
            for path in (Path(app.config["DATASET_DIR"]) / str(sid)).iterdir():
                path.unlink()
    if setup == "features":
        with app.app_context():
            db.session.get(Course, course).features = "nope"
            db.session.commit()
    job = _train(client, app, course)
    assert job.status == "failed" and message in job.message and "previous recognizer" in job.message
    assert _course(app, course).recognizer_version is None
    assert message in client.get(f"/courses/{course}").data.decode().replace("&#39;", "'")


def test_failed_retraining_keeps_the_last_good_recognizer(client, app, course, chips, monkeypatch):
    for i, c in enumerate(chips):
        seed_student_chips(app, course, str(i), c)
    assert _train(client, app, course).status == "done"
    good = _course(app, course).recognizer_summary

    def refuse(self, X, y):
        raise RecognizerError("students with fewer than 2 usable images: 1; add more photos")

    monkeypatch.setattr("app.courses.training.Recognizer.fit", refuse)
    job = _train(client, app, course)
    assert job.status == "failed" and "add more photos" in job.message
    kept = _course(app, course)
    assert kept.recognizer_version == 1 and kept.recognizer_summary == good
    assert load_recognizer(app.config, course, 1) is not None

    def degenerate(self, X, y):
        raise ValueError("Found array with 0 feature(s)")

    monkeypatch.setattr("app.courses.training.Recognizer.fit", degenerate)
    job = _train(client, app, course)
    assert job.status == "failed" and "upload more photos (about 8 per student)" in job.message

    def crash(self, X, y):
        raise MemoryError("out of memory")

    monkeypatch.setattr("app.courses.training.Recognizer.fit", crash)
    job = _train(client, app, course)
    assert job.status == "failed" and "Something went wrong" in job.message
    assert _course(app, course).recognizer_version == 1


def test_second_start_while_training_is_refused(client, app, course):
    with app.app_context():
        running = jobs.create_job("train", course)
        jobs.submit(app, running.id, lambda job_id: {})  # queued in this process, not yet run
    response = client.post(f"/courses/{course}/train", follow_redirects=True)
    assert "already running" in response.data.decode()
    assert jobs.run_pending(app) == 1  # only the first one was queued


def test_train_command(app, runner, auth, chips):
    auth.signup()
    course_id = course_of(app)
    seed_student_chips(app, course_id, "0", chips[0])
    result = runner.invoke(args=["train", "--course", str(course_id)])
    assert result.exit_code != 0 and "at least 2 students" in result.output
    seed_student_chips(app, course_id, "1", chips[1])
    result = runner.invoke(args=["train", "--course", str(course_id)])
    assert result.exit_code == 0, result.output
    assert "version 1: 2 students, 12 images" in result.output and "recommended 8" in result.output
    assert _course(app, course_id).recognizer_version == 1
    assert "no course with id 999" in runner.invoke(args=["train", "--course", "999"]).output


def test_background_thread_runs_jobs_when_enabled(client, app, course, chips):
    for i, c in enumerate(chips[:2]):
        seed_student_chips(app, course, str(i), c)
    app.config["START_BACKGROUND"] = True
    client.post(f"/courses/{course}/train")
    runner = app.extensions[jobs.EXTENSION_KEY]
    assert runner.thread is not None and runner.thread.name == "rollcall-jobs"
    try:
        assert jobs.wait_idle(app, timeout=60)
    finally:
        jobs.shutdown(app)
    assert not runner.thread.is_alive()
    with app.app_context():
        assert db.session.scalar(db.select(Job)).status == "done"
