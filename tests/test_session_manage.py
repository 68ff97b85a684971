"""Deleting or excluding a session (audited), and the chart showing 0% sessions with readable dates."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from app import db
from app.attendance import service as attendance
from app.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, AuditEvent, UnknownSighting
from app.reports.charts import TICK_WIDTH, attendance_svg
from reports_helpers import T0, login, make_teacher, seed_course

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def seeded(app, client):
    teacher = make_teacher(app, "a@example.com")
    ids = seed_course(app, teacher)
    login(client, "a@example.com")
    return ids


def stats_rows(client, course_id: int) -> list[str]:
    html = client.get(f"/reports/courses/{course_id}").get_data(as_text=True)
    body = html.split('class="student-stats"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", tr).split()) for tr in re.split(r"<tr[^>]*>", body)[1:]]


def test_deleting_a_session_removes_marks_sightings_snapshots_and_is_audited(app, client, seeded):
    first = seeded["sessions"][0]
    folder = Path(app.config["SNAPSHOT_DIR"]) / f"session_{first}"
    folder.mkdir(parents=True)
    (folder / "unknown_7.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    client.post(f"/reports/sessions/{first}/students/{seeded['students']['R03']}/mark",
                data={"mark": "present", "reason": "was there"})
    response = client.post(f"/reports/sessions/{first}/delete", follow_redirects=True)
    assert "Deleted session #" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AttendanceSession, first) is None
        for model in (AttendanceRecord, UnknownSighting, AttendanceCorrection):
            assert db.session.scalar(db.select(db.func.count(model.id)).where(model.session_id == first)) == 0
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "session_deleted"))
        assert event.course_id == seeded["course"] and "2026-01-05 09:00" in event.detail
    assert not folder.exists()
    assert stats_rows(client, seeded["course"])[0] == "R01 Student R01 2 / 2 100%"


def test_a_running_session_cannot_be_deleted(app, client, seeded):
    with app.app_context():
        running = attendance.create_session(seeded["course"], "0", "webcam 0", None)
    response = client.post(f"/reports/sessions/{running}/delete", follow_redirects=True)
    assert "stop the session before deleting it" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AttendanceSession, running) is not None


def test_another_teachers_session_cannot_be_deleted_or_excluded(app, client, seeded):
    other = seed_course(app, make_teacher(app, "b@example.com"), name="Other")
    for action in ("delete", "exclude"):
        assert client.post(f"/reports/sessions/{other['sessions'][0]}/{action}", data={"excluded": "1"}).status_code == 404


def test_an_excluded_session_leaves_percentages_and_the_chart(app, client, seeded):
    middle = seeded["sessions"][1]
    assert stats_rows(client, seeded["course"])[1] == "R02 Student R02 2 / 3 67%"
    page = client.post(f"/reports/sessions/{middle}/exclude", data={"excluded": "1"}, follow_redirects=True)
    assert "Excluded from statistics" in page.get_data(as_text=True)
    assert stats_rows(client, seeded["course"]) == [
        "R01 Student R01 2 / 2 100%", "R02 Student R02 2 / 2 100%", "R03 Student R03 0 / 2 0%",
        "R04 Student R04 1 / 2 50%"]
    chart = ET.fromstring(client.get(f"/reports/courses/{seeded['course']}/chart.svg").data)
    assert len([r for r in chart.iter(f"{SVG}rect") if r.get("class") == "bar"]) == 2
    export = client.get(f"/reports/courses/{seeded['course']}/export.csv").data.decode("utf-8-sig")
    assert f"#{middle}" not in export.splitlines()[0]
    client.post(f"/reports/sessions/{middle}/exclude", data={"excluded": "0"})
    assert stats_rows(client, seeded["course"])[1] == "R02 Student R02 2 / 3 67%"
    with app.app_context():
        assert list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id))) == \
            ["session_excluded", "session_included"]


def test_a_zero_percent_session_has_a_visible_bar_and_dates_are_labelled():
    svg = ET.fromstring(attendance_svg([("2026-01-05 09:00", 0.5), ("2026-01-06 09:00", 0.0),
                                        ("2026-01-06 14:00", 1.0)], 0.75))
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert bars[1].get("data-value") == "0.0" and float(bars[1].get("height")) >= 2
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "zero"] == ["0%"]
    # Every session labelled while they fit; a second session on one day shows its time.
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"] == ["Jan 5", "Jan 6", "14:00"]


def test_many_sessions_get_spaced_date_labels_that_never_overlap():
    start = T0
    bars = [(f"{start + timedelta(days=d):%Y-%m-%d %H:%M}", 0.8) for d in range(60)]
    svg = ET.fromstring(attendance_svg(bars, 0.75))
    ticks = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]
    xs = [float(t.get("x")) for t in ticks]
    assert len(ticks) > 2 and all(b - a >= TICK_WIDTH for a, b in zip(xs, xs[1:]))
    assert ticks[0].text == "Jan 5"
