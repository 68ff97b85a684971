"""Teachers' time zones: set from the browser once, changeable, used on pages, exports and the digest email."""
from __future__ import annotations

from datetime import datetime

from app import db
from app.models import AttendanceSession, Teacher
from app.reports.digest import build_absence_digest
from app.timezones import format_local, valid_zone
from reports_helpers import login, make_teacher, seed_course

EMAIL = "tz@example.com"


def _zone(app, email: str = EMAIL) -> str:
    with app.app_context():
        return db.session.scalar(db.select(Teacher.timezone).where(Teacher.email == email))


def _set_zone(app, name: str) -> None:
    with app.app_context():
        db.session.scalar(db.select(Teacher).where(Teacher.email == EMAIL)).timezone = name
        db.session.commit()


def test_format_local_converts_stored_utc():
    when = datetime(2026, 1, 5, 9, 0)  # naive = UTC, as SQLite returns it
    assert format_local(when, "Europe/Madrid") == "2026-01-05 10:00 CET"
    assert format_local(when, "America/New_York", "%H:%M", with_zone=False) == "04:00"
    assert format_local(when, "") == "2026-01-05 09:00 UTC"
    assert format_local("2026-07-01T12:00:00+00:00", "Europe/Madrid") == "2026-07-01 14:00 CEST"
    assert valid_zone("Mars/Olympus") == "" and valid_zone("../etc/passwd") == ""


def test_the_browser_sets_the_zone_once_and_the_teacher_can_change_it(app, client):
    make_teacher(app, EMAIL)
    login(client, EMAIL)
    page = client.get("/courses/").get_data(as_text=True)
    assert 'data-tz-unset="1"' in page and "js/timezone.js" in page
    assert client.post("/account/timezone", data={"timezone": "Europe/Madrid", "auto": "1"}).get_json()["ok"]
    assert _zone(app) == "Europe/Madrid"
    assert 'data-tz-unset' not in client.get("/courses/").get_data(as_text=True)
    # A second browser elsewhere does not override it; the teacher's own choice does.
    client.post("/account/timezone", data={"timezone": "Asia/Tokyo", "auto": "1"})
    assert _zone(app) == "Europe/Madrid"
    response = client.post("/account/timezone", data={"timezone": "Asia/Tokyo"}, follow_redirects=True)
    assert "Times are now shown in Asia/Tokyo." in response.get_data(as_text=True)
    assert _zone(app) == "Asia/Tokyo"
    bad = client.post("/account/timezone", data={"timezone": "Nowhere/Else"}, follow_redirects=True)
    assert "Choose a time zone" in bad.get_data(as_text=True) and _zone(app) == "Asia/Tokyo"
    assert client.post("/account/timezone", data={"timezone": "x", "auto": "1"}).status_code == 400


def test_pages_show_times_in_the_teachers_zone(app, client):
    teacher = make_teacher(app, EMAIL)
    seeded = seed_course(app, teacher)
    login(client, EMAIL)
    _set_zone(app, "Europe/Madrid")
    session = client.get(f"/reports/sessions/{seeded['sessions'][0]}").get_data(as_text=True)
    assert "session of <time" in session and ">2026-01-05 10:00</time> CET" in session
    assert "times in CET" in session  # the footer says which zone, with a link to change it
    listing = client.get(f"/reports/courses/{seeded['course']}/sessions").get_data(as_text=True)
    assert "Started (CET)" in listing and "2026-01-07 10:00" in listing


def test_exports_use_the_zone_for_times_headers_and_date_ranges(app, client):
    teacher = make_teacher(app, EMAIL)
    seeded = seed_course(app, teacher)
    login(client, EMAIL)
    _set_zone(app, "Pacific/Auckland")  # UTC+13 in January: 09:00 UTC on the 5th is 22:00 on the 5th
    with app.app_context():
        # A session at 12:30 UTC on 7 Jan is already 8 Jan in Auckland.
        late = AttendanceSession(course_id=seeded["course"], source="0", status="ended",
                                 started_at=datetime(2026, 1, 7, 12, 30))
        db.session.add(late)
        db.session.commit()
        late_id = late.id
    text = client.get(f"/reports/courses/{seeded['course']}/export.csv?start=2026-01-08&end=2026-01-08").data.decode("utf-8-sig")
    assert text.splitlines()[0] == f"roll_number,name,2026-01-08 01:30 #{late_id},attended,sessions,percent"
    rows = client.get(f"/reports/sessions/{seeded['sessions'][2]}/export.csv").data.decode("utf-8-sig").splitlines()
    assert rows[1].endswith(",2026-01-07 22:03:00 NZDT")
    assert rows[1].split(",")[4] == "2026-01-07T09:03:00Z"  # the UTC column keeps its meaning


def test_the_absence_digest_uses_the_teachers_zone(app):
    teacher = make_teacher(app, EMAIL)
    seeded = seed_course(app, teacher)
    _set_zone(app, "America/New_York")
    with app.app_context():
        subject, body = build_absence_digest(db.session.get(AttendanceSession, seeded["sessions"][0]))
    assert "Attendance session of 2026-01-05 04:00 EST" in body and "(2026-01-05)" in subject
