"""A course trained with an older feature pipeline says "retrain needed" on its page and at Start, instead of mispredicting."""
from __future__ import annotations

import json

import pytest

from app import db, jobs
from app.models import Course
from app.pipeline import recognizer_path
from app.vision.features import current_pipeline
from conftest import needs_datasets
from helpers_web import course_of, seed_student_chips

pytestmark = [needs_datasets]


@pytest.fixture
def trained_course(client, auth, app) -> int:
    """A course of three johns people trained through the real job; returns its id."""
    from tests.faces import chips_of

    auth.signup_and_login()
    course_id = course_of(app)
    chips, ids = chips_of("johns", detect=False)
    for n, person in enumerate(sorted(set(ids))[:3]):
        seed_student_chips(app, course_id, str(n), [c for c, i in zip(chips, ids) if i == person][:6])
    assert client.post(f"/courses/{course_id}/train").status_code == 302
    jobs.run_pending(app)
    return course_id


def _sidecar(app, course_id: int):
    with app.app_context():
        course = db.session.get(Course, course_id)
        return recognizer_path(app.config, course.id, course.recognizer_version).with_suffix(".json")


def test_fresh_training_records_the_pipeline_and_shows_no_warning(client, app, trained_course):
    meta = json.loads(_sidecar(app, trained_course).read_text())
    assert meta["feature_pipeline"] == current_pipeline("pixels")
    assert "Retrain needed" not in client.get(f"/courses/{trained_course}").get_data(as_text=True)


def test_course_trained_before_pipelines_were_recorded_asks_for_a_retrain(client, app, trained_course):
    side = _sidecar(app, trained_course)
    meta = json.loads(side.read_text())
    del meta["feature_pipeline"]  # as the first build wrote it
    meta["vector_length"] = 16384
    side.write_text(json.dumps(meta))
    page = client.get(f"/courses/{trained_course}").get_data(as_text=True)
    assert "Retrain needed" in page and "pixels/1" in page
    r = client.post("/attendance/start", data={"course_id": trained_course, "source_kind": "webcam",
                                               "webcam_index": "0"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "Attendance not started: Retrain needed" in text
    # Retraining clears it.
    assert client.post(f"/courses/{trained_course}/train").status_code == 302
    jobs.run_pending(app)
    assert "Retrain needed" not in client.get(f"/courses/{trained_course}").get_data(as_text=True)
