"""After training, the course page compares both feature kinds measured in the same job, with a one-click switch."""
from __future__ import annotations

import cv2

from app import db, jobs
from app.models import Course, Job
from app.pipeline import new_detector
from app.vision.face_policy import distinct_faces, subject_of
from app.vision.preprocess import face_chip
from conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector, needs_dlib
from helpers_web import course_of, images_of, seed_student_chips

pytestmark = [needs_datasets, needs_detector, needs_dlib]


def _lfw_chips(n_people: int = 4, n_images: int = 6) -> list[list]:
    detector = new_detector({"DETECTOR_DIR": str(DETECTOR_DIR), "DETECTOR_PROTOTXT": "deploy.prototxt",
                             "DETECTOR_WEIGHTS": "res10_300x300_ssd_iter_140000.caffemodel",
                             "DETECTOR_MIN_CONFIDENCE": 0.5})
    people = []
    for person in sorted(p for p in (DATASETS / "lfw10").iterdir() if p.is_dir())[:n_people]:
        chips = []
        for path in images_of(person, n_images + 4):
            image = cv2.imread(str(path))
            box = subject_of(distinct_faces(detector.detect_photo(image)), image.shape)
            if box is not None and len(chips) < n_images:
                chips.append(face_chip(image, box))
        people.append(chips)
    return people


def test_training_measures_both_kinds_and_the_page_offers_the_switch(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    for i, chips in enumerate(_lfw_chips()):
        seed_student_chips(app, course_id, str(i), chips)
    client.post(f"/courses/{course_id}/train")
    assert jobs.run_pending(app) == 1
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        assert job.status == "done", job.message
        summary = db.session.get(Course, course_id).recognizer_summary
    comparison = summary["comparison"]
    assert set(comparison) == {"pixels", "dlib"}
    assert comparison["pixels"]["cv_accuracy"] == summary["cv_accuracy"]  # the kind in use: the model saved
    # Same photos, other kind: a real measurement (on LFW the deep kind is far better, bench/RESULTS.md).
    assert comparison["dlib"]["cv_accuracy"] > comparison["pixels"]["cv_accuracy"]
    page = client.get(f"/courses/{course_id}").data.decode()
    assert "Face features compared on this course" in page
    assert f"{100 * comparison['dlib']['cv_accuracy']:.1f}%" in page
    assert "Switch to deep features (dlib)" in page and "in use" in page
    response = client.post(f"/courses/{course_id}/features", data={"features": "dlib"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    assert jobs.run_pending(app) == 1
    with app.app_context():
        course = db.session.get(Course, course_id)
        assert course.features == "dlib" and course.recognizer_version == 2
        assert course.recognizer_summary["comparison"]["dlib"]["cv_accuracy"] == course.recognizer_summary["cv_accuracy"]
    page = client.get(f"/courses/{course_id}").data.decode()
    assert "Switch to pixels (grey face)" in page


def test_switch_refuses_an_unknown_kind(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    response = client.post(f"/courses/{course_id}/features", data={"features": "nonsense"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Course, course_id).features == "pixels"
        assert db.session.scalar(db.select(Job)) is None
