"""Promise 6: names (course, student, teacher) with control characters or line breaks are refused where
they are typed or imported, so they never reach mail headers, CSV rows or XLSX cells."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app import db
from app.models import Course, Student, Teacher
from helpers_web import course_of

BAD_NAMES = ["Ann\nSmith", "Ann\r\nBcc: x@evil.example", "Tab\there", "Bell\x07", "Nul\x00l", "Del\x7f",
             "C1\x85next", "Line\u2028sep"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_course_and_student_forms_refuse_control_characters(client, auth, app, name):
    auth.signup_and_login()
    response = client.post("/courses/create", data={"name": name, "features": "pixels"})
    assert response.status_code == 200 and "must be on one line" in response.get_data(as_text=True)
    course_id = course_of(app)
    response = client.post(f"/courses/{course_id}/students/new", data={"name": name, "roll_number": "7"})
    assert "must be on one line" in response.get_data(as_text=True)
    response = client.post(f"/courses/{course_id}/students/new", data={"name": "Ann", "roll_number": "7\n8"})
    assert "must be on one line" in response.get_data(as_text=True)
    response = client.post(f"/courses/{course_id}/edit", data={"name": name, "features": "pixels"})
    assert "must be on one line" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Student.id))) == 0
        assert db.session.scalar(select(Course.name)) == "Physics"


def test_signup_refuses_a_name_with_a_line_break(client, app):
    response = client.post("/auth/signup", data={"name": "Ada\nBcc: x@evil.example", "email": "ada@example.com",
                                                 "password": "correct horse", "confirm": "correct horse"})
    assert "must be on one line" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Teacher.id))) == 0


def test_roster_import_refuses_rows_with_control_characters_and_keeps_the_others(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    csv_text = 'name,roll_number,email\nGood Name,1,\n"Two\nLines",2,\nTab\tName,3,\nFine,4\x07,\nOk Too,5,a@b.example\n'
    response = client.post(f"/courses/{course_id}/students/import",
                           data={"roster": (io.BytesIO(csv_text.encode()), "roster.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Imported 2 students" in html and "must be on one line" in html
    with app.app_context():
        names = sorted(db.session.scalars(select(Student.name)))
    assert names == ["Good Name", "Ok Too"]


def test_accents_and_other_scripts_are_still_welcome(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    for roll, name in enumerate(["José Ñúñez", "Zoë O'Brien-Smith", "李小龍", "Ђорђе", "محمد"]):
        response = client.post(f"/courses/{course_id}/students/new", data={"name": name, "roll_number": str(roll)})
        assert response.status_code == 302, name
