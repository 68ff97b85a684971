"""Promise 7: a control character already stored in a name (from before promise 6) never breaks an export:
XLSX shows a space in its place, CSV keeps working, and the formula guard still applies."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from reports_helpers import login, make_teacher, seed_course

from app import db
from app.models import Course, Student
from conftest import ON_POSTGRES

# SQLite stores a NUL in a name; PostgreSQL text cannot hold one at all, so there the test uses \x1f.
STORED_CONTROL = "\x1f" if ON_POSTGRES else "\x00"


def test_exports_survive_control_characters_in_stored_names(app):
    client = app.test_client()
    seeded = seed_course(app, make_teacher(app, "ada@example.org"))
    with app.app_context():
        student = db.session.get(Student, seeded["students"]["R01"])
        student.name = "Bad\x01Name\nTwo\x0bLines"
        db.session.get(Student, seeded["students"]["R02"]).name = "=HYPERLINK(\x07\"x\")"
        db.session.get(Course, seeded["course"]).name = f"Bio{STORED_CONTROL}logy"
        db.session.commit()
    login(client, "ada@example.org")
    for url in (f"/reports/courses/{seeded['course']}/export.xlsx", f"/reports/sessions/{seeded['sessions'][0]}/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        book = load_workbook(io.BytesIO(response.data))
        cells = [c for row in book["Attendance"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
        assert "Bad Name Two Lines" in cells
        assert '=HYPERLINK( "x")' in cells and book["Attendance"]["B3"].data_type == "s"  # text, not a formula
        info = dict(book["Info"].iter_rows(values_only=True))
        assert info["course"] == "Bio logy"
    csv = client.get(f"/reports/courses/{seeded['course']}/export.csv")
    assert csv.status_code == 200 and "Bad\x01Name" in csv.get_data(as_text=True)
