"""CSV/XLSX exports parsed back (csv module, openpyxl) and the absence digest in the outbox."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app import db
from app.models import OutboxMessage, Student, Teacher
from app.reports.digest import send_absence_digest
from reports_helpers import login, make_teacher, seed_course

HEADER = ["roll_number", "name", "2026-01-05 09:00 #1", "2026-01-06 09:00 #2", "2026-01-07 09:00 #3",
          "attended", "sessions", "percent"]
BODY = [
    ["R01", "Student R01", "P", "P", "P", "3", "3", "100.0"],
    ["R02", "Student R02", "P", "A", "P", "2", "3", "66.7"],
    ["R03", "Student R03", "A", "A", "A", "0", "3", "0.0"],
    ["R04", "Student R04", "P", "P", "A", "2", "3", "66.7"],
]


@pytest.fixture
def seeded(app, client):
    teacher = make_teacher(app, "a@example.com")
    ids = seed_course(app, teacher)
    ids["teacher"] = teacher
    login(client, "a@example.com")
    return ids


def download(client, url: str, mimetype: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == mimetype and "attachment;" in response.headers["Content-Disposition"]
    return response.data


def parse_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def parse_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data), read_only=False)


def test_course_csv_layout_and_content(client, seeded):
    rows = parse_csv(download(client, f"/reports/courses/{seeded['course']}/export.csv", "text/csv"))
    assert rows == [HEADER, *BODY]


def test_course_xlsx_matches_csv_with_typed_numbers(client, seeded):
    wb = parse_xlsx(download(client, f"/reports/courses/{seeded['course']}/export.xlsx",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    assert wb.sheetnames == ["Attendance", "Info"]
    cells = [list(r) for r in wb["Attendance"].iter_rows(values_only=True)]
    assert cells[0] == HEADER
    assert cells[2] == ["R02", "Student R02", "P", "A", "P", 2, 3, 66.7]
    assert [[str(v) for v in row[:-1]] + [float(row[-1])] for row in cells[1:]] == [
        row[:-1] + [float(row[-1])] for row in BODY]
    info = dict(wb["Info"].iter_rows(values_only=True))
    assert info["course"] == "Biology" and info["from"] == "first session" and info["to"] == "last session"


def test_course_export_date_range(client, seeded):
    rows = parse_csv(download(client, f"/reports/courses/{seeded['course']}/export.csv?start=2026-01-06&end=2026-01-07",
                              "text/csv"))
    assert rows[0] == ["roll_number", "name", "2026-01-06 09:00 #2", "2026-01-07 09:00 #3", "attended", "sessions",
                       "percent"]
    assert rows[2] == ["R02", "Student R02", "A", "P", "1", "2", "50.0"]
    empty = parse_csv(download(client, f"/reports/courses/{seeded['course']}/export.csv?start=2027-01-01", "text/csv"))
    assert empty[0] == ["roll_number", "name", "attended", "sessions", "percent"]
    assert empty[1] == ["R01", "Student R01", "0", "0", ""]


@pytest.mark.parametrize("query, message", [
    ("start=05/01/2026", "is not a date; use YYYY-MM-DD"),
    ("start=2026-01-07&end=2026-01-05", "The start date is after the end date."),
])
def test_course_export_bad_dates_explain(client, seeded, query, message):
    response = client.get(f"/reports/courses/{seeded['course']}/export.csv?{query}", follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_unknown_export_format_is_404(client, seeded):
    assert client.get(f"/reports/courses/{seeded['course']}/export.pdf").status_code == 404


def test_session_csv_and_xlsx(client, seeded):
    s3 = seeded["sessions"][2]
    rows = parse_csv(download(client, f"/reports/sessions/{s3}/export.csv", "text/csv"))
    assert rows == [
        ["roll_number", "name", "status", "marked_by", "first_seen_utc", "score", "first_seen_local"],
        ["R01", "Student R01", "present", "camera", "2026-01-07T09:03:00Z", "0.87", "2026-01-07 09:03:00 UTC"],
        ["R02", "Student R02", "present", "camera", "2026-01-07T09:03:00Z", "0.87", "2026-01-07 09:03:00 UTC"],
        ["R03", "Student R03", "absent", "", "", "", ""],
        ["R04", "Student R04", "absent", "teacher", "", "", ""],
    ]
    wb = parse_xlsx(download(client, f"/reports/sessions/{s3}/export.xlsx",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    cells = [list(r) for r in wb["Attendance"].iter_rows(values_only=True)]
    assert cells[1] == ["R01", "Student R01", "present", "camera", "2026-01-07T09:03:00Z", 0.87, "2026-01-07 09:03:00 UTC"]
    assert cells[3][:3] == ["R03", "Student R03", "absent"]
    assert dict(wb["Info"].iter_rows(values_only=True))["session_id"] == str(s3)


def test_formula_like_names_stay_text(app, client, seeded):
    with app.app_context():
        db.session.add(Student(course_id=seeded["course"], name='=HYPERLINK("http://x","y")', roll_number="R05"))
        db.session.commit()
    rows = parse_csv(download(client, f"/reports/courses/{seeded['course']}/export.csv", "text/csv"))
    assert rows[-1][1] == '\'=HYPERLINK("http://x","y")'
    wb = parse_xlsx(download(client, f"/reports/courses/{seeded['course']}/export.xlsx",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    cell = wb["Attendance"]["B6"]
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"


def test_absence_digest_lists_absent_students_once_enabled(app, client, seeded):
    s3 = seeded["sessions"][2]
    with app.app_context():
        assert send_absence_digest(s3) is None  # the setting is off by default
        assert db.session.scalars(select(OutboxMessage)).all() == []
    client.post("/reports/preferences", data={"absence_digest": "y"})
    with app.app_context():
        message_id = send_absence_digest(s3)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert (message.to, message.teacher_id, message.status) == ("a@example.com", seeded["teacher"], "pending")
        assert message.subject == "Rollcall: 2 of 4 absent in Biology (2026-01-07)"
        lines = message.body.splitlines()
        assert "Absent (2 of 4):" in lines and "  R03  Student R03" in lines and "  R04  Student R04" in lines
        assert not any("R01" in line or "R02" in line for line in lines)


def test_email_absence_list_button_sends_even_when_setting_off(app, client, seeded):
    s1 = seeded["sessions"][0]
    response = client.post(f"/reports/sessions/{s1}/digest", follow_redirects=True)
    assert "on its way to a@example.com" in response.get_data(as_text=True)
    with app.app_context():
        (message,) = db.session.scalars(select(OutboxMessage)).all()
        assert "Absent (1 of 4):" in message.body and "  R03  Student R03" in message.body
        assert db.session.get(Teacher, seeded["teacher"]).absence_digest is False


def test_digest_for_missing_session_is_none(app):
    with app.app_context():
        assert send_absence_digest(999) is None


def test_ending_a_session_queues_the_digest_when_enabled(app, client, seeded):
    from app.attendance.service import create_session, end_session

    client.post("/reports/preferences", data={"absence_digest": "y"})
    with app.app_context():
        sid = create_session(seeded["course"], "0", "Room camera", None)
        assert end_session(sid) is True
        (message,) = db.session.scalars(select(OutboxMessage)).all()
        assert "Absent (4 of 4):" in message.body  # nobody was marked in the new session
