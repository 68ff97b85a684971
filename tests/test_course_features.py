"""A course's face features: chosen at creation, refused clearly when missing, switching retrains."""
from __future__ import annotations

import sys

from app import db
from app.models import Course, Job
from conftest import DLIB_MISSING, needs_dlib
from helpers_web import course_of

import pytest


def test_new_course_defaults_to_the_configured_features(client, auth, app):
    auth.signup_and_login()
    app.config["RECOGNIZER_FEATURES"] = "pixels"
    page = client.get("/courses/create").data.decode()
    assert 'name="features"' in page and "Deep features" in page
    client.post("/courses/create", data={"name": "History"})
    with app.app_context():
        assert db.session.scalar(db.select(Course)).features == "pixels"


@needs_dlib
def test_course_can_be_created_with_dlib_features(client, auth, app):
    auth.signup_and_login()
    client.post("/courses/create", data={"name": "Biology", "features": "dlib"})
    with app.app_context():
        assert db.session.scalar(db.select(Course)).features == "dlib"


def test_missing_dlib_is_reported_next_to_the_field(client, auth, app, monkeypatch):
    auth.signup_and_login()
    monkeypatch.setitem(sys.modules, "dlib", None)
    response = client.post("/courses/create", data={"name": "Biology", "features": "dlib"})
    page = response.data.decode()
    assert response.status_code == 200
    assert "ask IT to install the packages dlib-bin and face-recognition-models" in page and "pip" not in page
    with app.app_context():
        assert db.session.scalar(db.select(Course)) is None


def test_switching_features_of_a_trained_course_starts_retraining(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        db.session.get(Course, course_id).recognizer_version = 1
        db.session.commit()
    response = client.post(f"/courses/{course_id}/edit", data={"name": "Physics", "features": "pixels"})
    assert response.status_code == 302  # unchanged features: just saved
    with app.app_context():
        assert db.session.scalar(db.select(Job)) is None
    if DLIB_MISSING:
        pytest.skip(DLIB_MISSING)
    response = client.post(f"/courses/{course_id}/edit", data={"name": "Physics", "features": "dlib"})
    assert "/jobs/" in response.headers["Location"]
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        assert job.kind == "train" and job.course_id == course_id and job.status == "queued"
        course = db.session.get(Course, course_id)
        assert course.features == "dlib" and course.recognizer_version == 1  # old one stays in use


def test_deep_features_are_installed_by_make_run_and_selectable(client, auth, app):
    """A fresh `make run` installs requirements.txt only: that must be enough for the deep option."""
    from config import BASE_DIR

    wanted = {line.split(">")[0].split("=")[0].strip() for line in (BASE_DIR / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert {"dlib-bin", "face-recognition-models"} <= wanted
    assert not (BASE_DIR / "requirements-dlib.txt").exists()
    assert DLIB_MISSING == "", DLIB_MISSING  # installed here exactly as `make run` installs it
    auth.signup_and_login()
    page = client.get("/courses/create").data.decode()
    assert '<option value="dlib"' in page and "pip" not in page
    response = client.post("/courses/create", data={"name": "Biology", "features": "dlib"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Course)).features == "dlib"
