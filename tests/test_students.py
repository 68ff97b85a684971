"""Students: add, edit, unique roll numbers, delete, roster CSV import with bad rows."""
from __future__ import annotations

import io
import re
from pathlib import Path

from app import db
from app.models import Student
from helpers_web import course_of, student_with_chip


def _students(app, course_id: int) -> dict[str, tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.scalars(db.select(Student).where(Student.course_id == course_id))
        return {s.roll_number: (s.name, s.email) for s in rows}


def test_add_edit_and_unique_roll_numbers(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    other_course = course_of(app, name="Other")
    response = client.post(f"/courses/{course_id}/students/new",
                           data={"name": "Ann Lee", "roll_number": "7", "email": "ann@example.com"})
    assert response.status_code == 302 and "/students/" in response.headers["Location"]
    page = client.post(f"/courses/{course_id}/students/new", data={"name": "Bo", "roll_number": "7"}).data.decode()
    assert "Roll number 7 is already used" in page
    assert b"valid email" in client.post(f"/courses/{course_id}/students/new",
                                         data={"name": "Bo", "roll_number": "8", "email": "bo@"}).data
    # The same roll number in another course is fine.
    client.post(f"/courses/{other_course}/students/new", data={"name": "Cy", "roll_number": "7"})
    client.post(f"/courses/{course_id}/students/new", data={"name": "Bo", "roll_number": "8"})
    assert _students(app, course_id) == {"7": ("Ann Lee", "ann@example.com"), "8": ("Bo", None)}
    with app.app_context():
        bo = db.session.scalar(db.select(Student).where(Student.name == "Bo")).id
    page = client.post(f"/students/{bo}/edit", data={"name": "Bo", "roll_number": "7"}).data.decode()
    assert "already used" in page
    client.post(f"/students/{bo}/edit", data={"name": "Bo Ng", "roll_number": "9", "email": "bo@example.com"})
    assert _students(app, course_id)["9"] == ("Bo Ng", "bo@example.com")
    listing = client.get(f"/courses/{course_id}/students/").data.decode()
    assert "Ann Lee" in listing and "Bo Ng" in listing and "Cy" not in listing


def test_student_list_shows_counts_and_thumbnails(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    student_id, sample_id = student_with_chip(app, course_id)
    page = client.get(f"/courses/{course_id}").data.decode()
    assert f"/students/{student_id}/faces/{sample_id}.png" in page and 'badge-bad">1<' in page


def test_delete_student_removes_rows_and_files(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    student_id, _ = student_with_chip(app, course_id)
    keep_id, _ = student_with_chip(app, course_id, roll="2")
    assert client.get(f"/students/{student_id}/delete").status_code == 405
    client.post(f"/students/{student_id}/delete")
    assert not (Path(app.config["DATASET_DIR"]) / str(student_id)).exists()
    assert (Path(app.config["DATASET_DIR"]) / str(keep_id)).is_dir()
    assert set(_students(app, course_id)) == {"2"}


def _import(client, course_id: int, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return client.post(f"/courses/{course_id}/students/import", content_type="multipart/form-data",
                       data={"roster": (io.BytesIO(data), "class.csv")})


def test_roster_import_reports_bad_rows_and_keeps_good_ones(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    client.post(f"/courses/{course_id}/students/new", data={"name": "Old", "roll_number": "1"})
    csv_text = ("name,roll_number,email\n"
                "Ann,2,ann@example.com\n"
                ",3,x@example.com\n"          # line 3: no name
                "Bo,,\n"                      # line 4: no roll number
                "Cy,1,\n"                     # line 5: roll number taken in the course
                "Di,4,not-an-email\n"         # line 6: bad email
                "Ed,2,\n"                     # line 7: duplicate within the file
                "Fi,5,fi@example.com,extra\n"  # line 8: too many columns
                "\n"
                "Gus,6\n")
    page = _import(client, course_id, csv_text).data.decode()
    assert "Imported 2 students; 6 rows had problems" in page
    for line, problem in [(3, "name is missing"), (4, "roll number is missing"), (5, "already used"),
                          (6, "is not valid"), (7, "already used"), (8, "expected 3 columns")]:
        assert re.search(rf"Line {line}: [^<]*{problem}", page), line
    assert _students(app, course_id) == {"1": ("Old", None), "2": ("Ann", "ann@example.com"), "6": ("Gus", None)}


def test_roster_import_rejects_binary_and_missing_file(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    assert "not a UTF-8 text CSV" in _import(client, course_id, b"\xff\xfe\x00\x81\x9f").data.decode()
    assert b"Choose a CSV file" in client.post(f"/courses/{course_id}/students/import", data={}).data
    assert _students(app, course_id) == {}
