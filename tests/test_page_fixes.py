"""The pages a teacher tripped on: wording, favicon, the Train button, video names, the live page after the end."""
from __future__ import annotations

import io
from pathlib import Path

from werkzeug.datastructures import FileStorage

from app import db
from app.attendance import service as attendance
from app.attendance.sources import source_from_form
from app.models import Course, FaceSample, Job, OutboxMessage
from app.vision.sources import safe_label
from helpers_web import course_of, student_with_chip
from reports_helpers import login, make_teacher, seed_course

SUMMARY = {"version": 1, "features": "pixels", "n_students": 3, "n_images": 27, "cv_accuracy": 0.9,
           "operating_point": {"threshold": 0.9, "method": "impostor-far", "target_far": 0.01, "measured_far": 0.0,
                               "true_accept_rate": 0.4},
           "min_images": 2, "recommended_images": 8, "few_images": [], "skipped": [],
           "train_seconds": 1.0, "trained_at": "2026-01-05T09:00:00+00:00", "message": "Trained."}


def test_every_page_links_a_favicon_that_exists(client, auth):
    auth.signup_and_login()
    page = client.get("/courses/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.data.startswith(b"<svg")
    client.post("/auth/logout")
    assert 'rel="icon"' in client.get("/auth/login").get_data(as_text=True)


def test_one_bad_roster_row_is_singular(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    page = client.post(f"/courses/{course_id}/students/import", content_type="multipart/form-data",
                       data={"roster": (io.BytesIO(b"Ann,2\n,3\n"), "roster.csv")}).get_data(as_text=True)
    assert "Imported 1 student; 1 row had problems." in page


def test_video_enrollment_result_says_the_counts_once(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    student_id, _ = student_with_chip(app, course_id)
    with app.app_context():
        job = Job(kind="enroll_video", course_id=course_id, student_id=student_id, status="done", progress=1.0,
                  message="Accepted 12 face images; rejected 3.",
                  result={"accepted": 12, "rejected": [["frame 1", "blurry"]] * 3, "reasons": {"blurry": 3}})
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = client.get(f"/courses/{course_id}/jobs/{job_id}").get_data(as_text=True)
    assert page.count("Accepted 12") == 1 and "Why frames were rejected" in page and "blurry: 3" in page


def test_a_manual_absence_list_does_not_claim_the_digest_is_on(app, client):
    teacher = make_teacher(app, "a@example.com")
    seeded = seed_course(app, teacher)
    login(client, "a@example.com")
    client.post(f"/reports/sessions/{seeded['sessions'][0]}/digest")
    with app.app_context():
        body = db.session.scalar(db.select(OutboxMessage.body))
    assert "You asked for this list" in body and "digest is on" not in body


def _course_with(app, client, auth, samples: list[int], summary: dict | None = None) -> int:
    auth.signup_and_login()
    course_id = course_of(app)
    for i, n in enumerate(samples):
        student_id, _ = student_with_chip(app, course_id, roll=str(i), name=f"S{i}")  # one photo each
        with app.app_context():
            for k in range(n - 1):
                db.session.add(FaceSample(student_id=student_id, filename=f"x{k}.png", source="photo"))
            db.session.commit()
    if summary:
        with app.app_context():
            course = db.session.get(Course, course_id)
            course.recognizer_version, course.recognizer_summary = 1, summary
            db.session.commit()
    return course_id


def test_the_train_button_says_before_starting_when_fewer_than_2_students_have_photos(app, client, auth):
    course_id = _course_with(app, client, auth, [5, 1])
    page = client.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "disabled" in page.split("Train recognizer")[0].rsplit("<button", 1)[1]
    assert "Training needs at least 2 students with 2 or more photos each; 1 has them now." in page


def test_the_train_button_is_enabled_with_two_ready_students(app, client, auth):
    course_id = _course_with(app, client, auth, [2, 2])
    page = client.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "disabled" not in page.split("Train recognizer")[0].rsplit("<button", 1)[1]
    assert "Training needs" not in page


def test_a_strict_check_with_enough_photos_does_not_ask_for_about_8(app, client, auth):
    course_id = _course_with(app, client, auth, [9, 9, 9], SUMMARY)
    page = client.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "only 40% of enrolled faces pass it" in page
    assert "about 8" not in page and "Every student already has 8 or more photos" in page
    few = dict(SUMMARY, few_images=[{"student_id": 1, "name": "S0", "images": 3}])
    with app.app_context():
        db.session.get(Course, course_id).recognizer_summary = few
        db.session.commit()
    assert "Upload more photos of S0 (about 8 each)" in client.get(f"/courses/{course_id}").get_data(as_text=True)


def test_an_uploaded_attendance_video_keeps_its_own_name(app, tmp_path):
    upload = FileStorage(io.BytesIO(b"not really a video"), filename="Room 101 Monday.mp4")
    path = source_from_form({"source_kind": "upload"}, upload, app.config)
    assert safe_label(path) == "Room_101_Monday.mp4"
    assert Path(path).read_bytes() == b"not really a video"
    other = source_from_form({"source_kind": "upload"},
                             FileStorage(io.BytesIO(b"x"), filename="Room 101 Monday.mp4"), app.config)
    assert other != path  # two uploads of one name never overwrite each other
    assert safe_label(source_from_form({"source_kind": "upload"}, FileStorage(io.BytesIO(b"x"), filename="клип.mp4"),
                                       app.config)) == "video.mp4"


def test_the_live_page_of_an_ended_session_says_so_and_leads_to_the_table(app, client):
    teacher = make_teacher(app, "a@example.com")
    seeded = seed_course(app, teacher)
    login(client, "a@example.com")
    with app.app_context():
        running = attendance.create_session(seeded["course"], "0", "webcam 0", None)
    live = client.get(f"/attendance/{running}").get_data(as_text=True)
    assert '<p class="flash flash-info" id="ended" role="status" hidden>' in live and ">Stop</button>" in live
    with app.app_context():
        attendance.end_session(running, "ended", "the video ended")
    ended = client.get(f"/attendance/{running}").get_data(as_text=True)
    assert ">Stop</button>" not in ended and 'id="ended" role="status">' in ended
    assert "This session has ended" in ended and "(the video ended)" in ended
    assert f'class="btn btn-primary" id="table-link" href="/reports/sessions/{running}"' in ended
