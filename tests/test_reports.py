"""Report pages through the test client: counts, percentages, chart, corrections, audit log, isolation."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import db
from app.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, Student, Teacher
from reports_helpers import T0, login, make_teacher, seed_course


@pytest.fixture
def seeded(app, client):
    """Teacher A logged in with the MARKS course; teacher B exists with a course of their own."""
    a = make_teacher(app, "a@example.com", "Ada Teacher")
    b = make_teacher(app, "b@example.com", "Bob Other")
    ids = seed_course(app, a)
    ids["teacher"], ids["other_teacher"] = a, b
    ids["other"] = seed_course(app, b, name="Chemistry")
    login(client, "a@example.com")
    return ids


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def body(client, url: str) -> bytes:
    """A file response's bytes, closing the file (send_file streams it)."""
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.get_data()


def rows(html: str, table_class: str) -> list[str]:
    """The <tr> bodies of a table's tbody, tags stripped and whitespace collapsed."""
    body = html.split(f'class="{table_class}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", tr).split()) for tr in re.split(r"<tr[^>]*>", body)[1:]]


def test_anonymous_is_sent_to_login(app, client):
    response = client.get("/reports/preferences")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_sessions_list_counts_and_status_filter(app, client, seeded):
    with app.app_context():
        db.session.add(AttendanceSession(course_id=seeded["course"], source="0", status="failed",
                                         started_at=T0 + timedelta(days=9)))
        db.session.commit()
    html = text(client.get(f"/reports/courses/{seeded['course']}/sessions"))
    got = rows(html, "sessions")
    # Newest first: the failed one, then 7, 6, 5 January (present, absent, unknown, %).
    assert "failed" in got[0] and got[0].endswith("0 4 0 0% CSV XLSX")
    assert "2026-01-05 09:00" in got[3] and got[3].endswith("3 1 1 75% CSV XLSX")
    assert got[2].endswith("2 2 0 50% CSV XLSX")
    only_failed = rows(text(client.get(f"/reports/courses/{seeded['course']}/sessions?status=failed")), "sessions")
    assert len(only_failed) == 1 and "failed" in only_failed[0]
    oldest = rows(text(client.get(f"/reports/courses/{seeded['course']}/sessions?sort=oldest")), "sessions")
    assert "2026-01-05 09:00" in oldest[0]


def test_course_statistics_percentages_low_filter_and_sort(app, client, seeded):
    html = text(client.get(f"/reports/courses/{seeded['course']}"))
    got = rows(html, "student-stats")
    assert got == ["R01 Student R01 3 / 3 100%", "R02 Student R02 2 / 3 67%", "R03 Student R03 0 / 3 0%",
                   "R04 Student R04 2 / 3 67%"]
    assert html.count('class="low"') == 3  # everyone but R01 is under 75%
    low = rows(text(client.get(f"/reports/courses/{seeded['course']}?low=1&sort=rate")), "student-stats")
    assert [r.split()[0] for r in low] == ["R03", "R02", "R04"]
    by_name = rows(text(client.get(f"/reports/courses/{seeded['course']}?sort=name")), "student-stats")
    assert [r.split()[0] for r in by_name] == ["R01", "R02", "R03", "R04"]


def test_failed_session_without_marks_does_not_count(app, client, seeded):
    with app.app_context():
        db.session.add(AttendanceSession(course_id=seeded["course"], source="0", status="failed", started_at=T0))
        db.session.commit()
    got = rows(text(client.get(f"/reports/courses/{seeded['course']}")), "student-stats")
    assert got[0] == "R01 Student R01 3 / 3 100%"


def test_chart_is_svg_with_one_bar_per_session(app, client, seeded):
    response = client.get(f"/reports/courses/{seeded['course']}/chart.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    bars = [el for el in root.iter("{http://www.w3.org/2000/svg}rect") if el.get("class") == "bar"]
    assert [b.get("data-value") for b in bars] == ["75.0", "50.0", "50.0"]
    assert [b.get("fill") for b in bars] == ["#12b76a", "#f04438", "#f04438"]  # 75% is at the threshold, not under


def test_course_page_includes_the_panel(app, client, seeded):
    html = text(client.get(f"/courses/{seeded['course']}"))
    assert 'id="attendance-records"' in html
    assert f"/reports/courses/{seeded['course']}/chart.svg" in html
    assert f"/reports/courses/{seeded['course']}/export.csv" in html
    assert rows(html, "low-students")[0] == "R03 Student R03 0 / 3 0%"


def test_session_page_roster_evidence_and_unknowns(app, client, seeded):
    s1 = seeded["sessions"][0]
    html = text(client.get(f"/reports/sessions/{s1}"))
    got = rows(html, "roster")
    assert got[0].startswith("R01 Student R01 present camera 2026-01-05 09:03 0.87")
    assert got[2].startswith("R03 Student R03 absent")
    assert f"/reports/sessions/{s1}/students/{seeded['students']['R01']}/snapshot" in html
    assert "/sightings/" in html and "No manual corrections" in html
    absent = rows(text(client.get(f"/reports/sessions/{s1}?show=absent")), "roster")
    assert [r.split()[0] for r in absent] == ["R03"]
    present = rows(text(client.get(f"/reports/sessions/{s1}?show=present&sort=name")), "roster")
    assert [r.split()[0] for r in present] == ["R01", "R02", "R04"]
    assert [r.split()[0] for r in rows(text(client.get(f"/reports/sessions/{s1}?q=r04")), "roster")] == ["R04"]


def test_session_roster_paginates(app, client, seeded):
    with app.app_context():
        db.session.add_all(Student(course_id=seeded["course"], name=f"Extra {i:02d}", roll_number=f"X{i:02d}")
                           for i in range(60))
        db.session.commit()
    s1 = seeded["sessions"][0]
    first = text(client.get(f"/reports/sessions/{s1}"))
    assert len(rows(first, "roster")) == 50 and "Page 1 of 2 · 64 rows" in first
    second = rows(text(client.get(f"/reports/sessions/{s1}?page=2")), "roster")
    assert [r.split()[0] for r in second] == [f"X{i:02d}" for i in range(46, 60)]
    assert len(rows(text(client.get(f"/reports/sessions/{s1}?page=99")), "roster")) == 14  # clamped to the last
    stats = text(client.get(f"/reports/courses/{seeded['course']}?page=2"))
    assert len(rows(stats, "student-stats")) == 14 and 'rel="prev"' in stats


def test_correction_writes_record_and_audit_in_one_go(app, client, seeded):
    s1, r03 = seeded["sessions"][0], seeded["students"]["R03"]
    response = client.post(f"/reports/sessions/{s1}/students/{r03}/mark",
                           data={"mark": "present", "reason": "Sat behind a pillar"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/sessions/{s1}")
    with app.app_context():
        record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.session_id == s1,
                                                                  AttendanceRecord.student_id == r03))
        assert record.present and record.marked_by == "teacher"
        audit = db.session.scalars(select(AttendanceCorrection)).all()
        assert [(c.student_id, c.teacher_id, c.before, c.after, c.reason) for c in audit] == [
            (r03, seeded["teacher"], "absent", "present", "Sat behind a pillar")]
    html = text(client.get(f"/reports/sessions/{s1}"))
    assert "Attendance corrected" in html
    assert rows(html, "audit")[0].endswith("Ada Teacher R03 Student R03 absent present Sat behind a pillar")
    assert "R03 Student R03 present teacher" in rows(html, "roster")[2]
    student = text(client.get(f"/reports/students/{r03}"))
    assert "from absent to present: “Sat behind a pillar”" in student


def test_overriding_a_camera_mark_keeps_its_evidence(app, client, seeded):
    s1, r01 = seeded["sessions"][0], seeded["students"]["R01"]
    client.post(f"/reports/sessions/{s1}/students/{r01}/mark", data={"mark": "absent", "reason": "Left at 09:10"})
    client.post(f"/reports/sessions/{s1}/students/{r01}/mark", data={"mark": "present", "reason": "Came back"})
    with app.app_context():
        record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.session_id == s1,
                                                                  AttendanceRecord.student_id == r01))
        assert (record.present, record.marked_by, record.score, record.snapshot) == (True, "teacher", 0.87,
                                                                                      f"session_{s1}/student_R01.jpg")
        assert record.first_seen_at == T0 + timedelta(minutes=3)
        trail = [(c.before, c.after) for c in db.session.scalars(
            select(AttendanceCorrection).order_by(AttendanceCorrection.id))]
        assert trail == [("present", "absent"), ("absent", "present")]
    audit = rows(text(client.get(f"/reports/sessions/{s1}")), "audit")
    assert audit[0].endswith("absent present Came back") and audit[1].endswith("present absent Left at 09:10")


@pytest.mark.parametrize("data, message", [
    ({"mark": "present", "reason": ""}, "Give a reason"),
    ({"mark": "present", "reason": "   "}, "Give a reason"),
    ({"mark": "maybe", "reason": "x"}, "Choose present or absent"),
    ({"mark": "present", "reason": "x" * 501}, "under 500 characters"),
    ({"mark": "absent", "reason": "Already absent"}, "already marked absent; nothing changed"),
])
def test_bad_corrections_change_nothing(app, client, seeded, data, message):
    s1, r03 = seeded["sessions"][0], seeded["students"]["R03"]
    response = client.post(f"/reports/sessions/{s1}/students/{r03}/mark", data=data, follow_redirects=True)
    assert message in text(response)
    with app.app_context():
        assert db.session.scalars(select(AttendanceCorrection)).all() == []
        assert db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.student_id == r03)) is None


def test_correction_for_a_student_of_another_course(app, client, seeded):
    with app.app_context():
        from app.models import Course

        course = Course(teacher_id=seeded["teacher"], name="Physics")
        db.session.add(course)
        db.session.flush()
        outsider = Student(course_id=course.id, name="Outsider", roll_number="Z1")
        db.session.add(outsider)
        db.session.commit()
        outsider_id = outsider.id
    response = client.post(f"/reports/sessions/{seeded['sessions'][0]}/students/{outsider_id}/mark",
                           data={"mark": "present", "reason": "test"}, follow_redirects=True)
    assert "not enrolled in this session" in text(response)


def test_student_history_and_percentage(app, client, seeded):
    html = text(client.get(f"/reports/students/{seeded['students']['R02']}"))
    assert "2 / 3" in html and "67%" in html and "Under the 75% attendance threshold" in html
    got = rows(html, "history")
    assert [r.split()[2] for r in got] == ["ended", "ended", "ended"]
    assert [r.split()[3] for r in got] == ["present", "absent", "present"]  # newest first
    absent = rows(text(client.get(f"/reports/students/{seeded['students']['R02']}?show=absent")), "history")
    assert len(absent) == 1 and "2026-01-06" in absent[0]


def test_snapshots_are_served_only_for_their_session(app, client, seeded):
    s1 = seeded["sessions"][0]
    folder = Path(app.config["SNAPSHOT_DIR"]) / f"session_{s1}"  # the recorder's layout
    folder.mkdir(parents=True)
    (folder / "student_R01.jpg").write_bytes(b"\xff\xd8jpeg")
    (folder / "unknown_7.jpg").write_bytes(b"\xff\xd8unknown")
    assert body(client, f"/reports/sessions/{s1}/students/{seeded['students']['R01']}/snapshot") == b"\xff\xd8jpeg"
    with app.app_context():
        sighting_id = db.session.scalar(select(AttendanceSession).where(AttendanceSession.id == s1)).sightings[0].id
    assert body(client, f"/reports/sessions/{s1}/sightings/{sighting_id}/snapshot") == b"\xff\xd8unknown"
    assert client.get(f"/reports/sessions/{s1}/students/{seeded['students']['R03']}/snapshot").status_code == 404
    assert client.get(f"/reports/sessions/{seeded['sessions'][1]}/sightings/{sighting_id}/snapshot").status_code == 404


def test_another_teacher_gets_404_on_every_id_route(app, client, seeded):
    course, s1, r01 = seeded["course"], seeded["sessions"][0], seeded["students"]["R01"]
    client.post("/auth/logout")
    login(client, "b@example.com")
    with app.app_context():
        sighting_id = db.session.get(AttendanceSession, s1).sightings[0].id
    urls = [f"/reports/courses/{course}", f"/reports/courses/{course}/sessions", f"/reports/courses/{course}/chart.svg",
            f"/reports/courses/{course}/export.csv", f"/reports/courses/{course}/export.xlsx",
            f"/reports/sessions/{s1}", f"/reports/sessions/{s1}/export.csv", f"/reports/sessions/{s1}/export.xlsx",
            f"/reports/sessions/{s1}/students/{r01}/snapshot", f"/reports/sessions/{s1}/sightings/{sighting_id}/snapshot",
            f"/reports/students/{r01}"]
    for url in urls:
        assert client.get(url).status_code == 404, url
    # B's own session with A's student, and A's session with B's student: both refused.
    own_session, own_student = seeded["other"]["sessions"][0], seeded["other"]["students"]["R01"]
    for url in (f"/reports/sessions/{own_session}/students/{r01}/mark", f"/reports/sessions/{s1}/students/{own_student}/mark"):
        assert client.post(url, data={"mark": "absent", "reason": "x"}).status_code == 404, url
    with app.app_context():
        assert db.session.scalars(select(AttendanceCorrection)).all() == []
    assert client.get(f"/reports/courses/{seeded['other']['course']}").status_code == 200


def test_absence_digest_preference_toggles(app, client, seeded):
    assert 'name="absence_digest"' in text(client.get("/reports/preferences"))
    response = client.post("/reports/preferences", data={"absence_digest": "y"}, follow_redirects=True)
    assert "Absence digest turned on." in text(response)
    with app.app_context():
        assert db.session.get(Teacher, seeded["teacher"]).absence_digest is True
        assert db.session.get(Teacher, seeded["other_teacher"]).absence_digest is False
    client.post("/reports/preferences", data={})
    with app.app_context():
        assert db.session.get(Teacher, seeded["teacher"]).absence_digest is False


def test_camera_does_not_undo_a_teacher_mark(app, client, seeded):
    from app.attendance.service import mark_present

    s1, r03 = seeded["sessions"][0], seeded["students"]["R03"]
    client.post(f"/reports/sessions/{s1}/students/{r03}/mark", data={"mark": "present", "reason": "Signed sheet"})
    client.post(f"/reports/sessions/{s1}/students/{r03}/mark", data={"mark": "absent", "reason": "Wrong person"})
    with app.app_context():
        assert mark_present(s1, r03, 0.9, T0, None) is False
        record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.session_id == s1,
                                                                  AttendanceRecord.student_id == r03))
        assert (record.present, record.marked_by) == (False, "teacher")


def test_low_threshold_is_configurable(app, client, seeded):
    app.config["ATTENDANCE_LOW_THRESHOLD"] = 0.5
    html = text(client.get(f"/reports/courses/{seeded['course']}?low=1"))
    assert [r.split()[0] for r in rows(html, "student-stats")] == ["R03"]
    assert "Only under 50%" not in html and "Show everyone" in html


def test_sessions_list_paginates(app, client, seeded):
    with app.app_context():
        db.session.add_all(AttendanceSession(course_id=seeded["course"], source="0", status="ended",
                                             started_at=T0 - timedelta(days=d + 1)) for d in range(50))
        db.session.commit()
    first = text(client.get(f"/reports/courses/{seeded['course']}/sessions"))
    assert len(rows(first, "sessions")) == 50 and "Page 1 of 2 · 53 rows" in first
    second = rows(text(client.get(f"/reports/courses/{seeded['course']}/sessions?page=2")), "sessions")
    assert len(second) == 3 and "2025-11-16 09:00" in second[-1]  # the oldest is last
