"""Courses: CRUD, empty states, layout, isolation between teachers, deletion of files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import db, jobs
from app.models import Course, Student
from helpers_web import course_of, student_with_chip


def test_pages_need_login(client):
    for url in ("/courses/", "/courses/create", "/courses/1", "/students/1", "/courses/1/students/"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_empty_state_then_create_rename_and_list(client, auth, app):
    auth.signup_and_login()
    page = client.get("/courses/").data.decode()
    assert "Create your first course" in page
    assert "Settings" not in page or "settings.index" in app.view_functions
    response = client.post("/courses/create", data={"name": "  Physics 101 "}, follow_redirects=True)
    assert "Course “Physics 101” created" in response.data.decode()
    with app.app_context():
        course = db.session.scalar(db.select(Course))
        assert course.name == "Physics 101"
    assert b"Physics 101" in client.get("/courses/").data
    assert b"field is required" in client.post("/courses/create", data={"name": "  "}).data
    client.post(f"/courses/{course.id}/edit", data={"name": "Physics 102"})
    with app.app_context():
        assert db.session.get(Course, course.id).name == "Physics 102"


def test_detail_shows_panels_and_recognizer_state(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    page = client.get(f"/courses/{course_id}").data.decode()
    assert "Not trained yet" in page and "Add your first student" in page
    assert 'href="/static/css/app.css"' in page
    with app.app_context():
        course = db.session.get(Course, course_id)
        course.recognizer_version = 3
        course.recognizer_summary = {"n_students": 4, "n_images": 40, "cv_accuracy": 0.975, "features": "pixels",
                                     "operating_point": {"threshold": 0.5, "method": "impostor-far",
                                                         "target_far": 0.01, "true_accept_rate": 0.9},
                                     "few_images": [{"name": "Sam", "images": 3}], "recommended_images": 8,
                                     "trained_at": "2026-01-01T00:00:00+00:00"}
        db.session.commit()
    page = client.get(f"/courses/{course_id}").data.decode()
    assert "v3" in page and "97.5%" in page and "pixels" in page and "Sam (3)" in page
    assert "stranger check is strict" not in page
    with app.app_context():
        course = db.session.get(Course, course_id)
        course.recognizer_summary = dict(course.recognizer_summary,
                                         operating_point=dict(course.recognizer_summary["operating_point"],
                                                              true_accept_rate=0.2))
        db.session.commit()
    assert "only 20% of enrolled faces pass" in client.get(f"/courses/{course_id}").data.decode()


def test_delete_course_removes_students_files_and_models(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    other_id = course_of(app, name="Other")
    student_id, _ = student_with_chip(app, course_id)
    other_student, _ = student_with_chip(app, other_id)
    dataset, models = Path(app.config["DATASET_DIR"]), Path(app.config["RECOGNIZER_DIR"])
    (models / f"course_{course_id}").mkdir(parents=True)
    (models / f"course_{course_id}" / "v1.joblib").write_bytes(b"x")
    (models / f"course_{other_id}").mkdir(parents=True)
    assert client.get(f"/courses/{course_id}/delete").status_code == 405
    response = client.post(f"/courses/{course_id}/delete", follow_redirects=True)
    assert "face data were deleted" in response.data.decode()
    with app.app_context():
        assert db.session.get(Course, course_id) is None and db.session.get(Student, student_id) is None
    assert not (dataset / str(student_id)).exists() and not (models / f"course_{course_id}").exists()
    assert (dataset / str(other_student)).is_dir() and (models / f"course_{other_id}").is_dir()


def _id_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every course/student route that takes an id."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("courses", "students") and rule.arguments:
            routes += [(m, rule.rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_another_teacher_gets_404_on_every_id_route(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    student_id, sample_id = student_with_chip(app, course_id)
    with app.app_context():
        job_id = jobs.create_job("train", course_id).id
    with client.get(f"/students/{student_id}/faces/{sample_id}.png") as response:
        assert response.status_code == 200 and response.mimetype == "image/png"
    auth.logout()
    auth.signup_and_login(email="other@example.com")
    ids = {"course_id": course_id, "student_id": student_id, "sample_id": sample_id, "job_id": job_id}
    routes = _id_routes(app)
    assert len(routes) >= 12
    for method, rule in routes:
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)
        response = client.open(url, method=method, data={"name": "hijack", "roll_number": "9"})
        assert response.status_code == 404, (method, url, response.status_code)
    with app.app_context():
        assert db.session.get(Course, course_id).name == "Physics"
        assert db.session.get(Student, student_id) is not None
    assert "Physics" not in client.get("/courses/").data.decode()


def test_job_page_shows_progress_and_json(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        job_id = jobs.create_job("train", course_id).id
        jobs.submit(app, job_id, lambda job_id: {"message": "All done", "n_students": 2})
        jobs.report_progress(job_id, 0.4, "Halfway there")
    page = client.get(f"/courses/{course_id}/jobs/{job_id}").data.decode()
    assert 'http-equiv="refresh"' in page and "Halfway there" in page
    data = client.get(f"/courses/{course_id}/jobs/{job_id}", headers={"Accept": "application/json"}).get_json()
    assert data["status"] == "queued" and data["progress"] == pytest.approx(0.4)
    assert jobs.run_pending(app) == 1
    data = client.get(f"/courses/{course_id}/jobs/{job_id}", headers={"Accept": "application/json"}).get_json()
    assert data["status"] == "done" and data["message"] == "All done" and data["result"]["n_students"] == 2
    assert client.get(f"/courses/{course_id}/jobs/{job_id + 1}").status_code == 404


def test_job_cut_off_by_a_restart_is_closed_and_training_can_start(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        orphan = jobs.create_job("train", course_id)  # a row left "running" by a previous process
        orphan.status = "running"
        db.session.commit()
        orphan_id = orphan.id
    page = client.get(f"/courses/{course_id}/jobs/{orphan_id}").data.decode()
    assert "Interrupted because the server restarted" in page
    response = client.post(f"/courses/{course_id}/train", follow_redirects=True)
    assert "already running" not in response.data.decode()
    assert jobs.run_pending(app) == 1


def test_names_are_escaped_and_deletes_confirm_without_inline_js(client, auth, app):
    auth.signup_and_login()
    client.post("/courses/create", data={"name": "O'Brien <script>alert(1)</script>"})
    with app.app_context():
        course_id = db.session.scalar(db.select(Course.id))
    page = client.get(f"/courses/{course_id}/edit").data.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "onsubmit" not in page and 'data-confirm="Delete O&#39;Brien &lt;script&gt;' in page
    assert "/static/js/confirm.js" in page
