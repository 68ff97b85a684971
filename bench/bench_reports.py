"""Report pages at scale: seed 200 students x 500 sessions (100,000 records) and time every page.

Run: .venv/bin/python bench/bench_reports.py [--students 200] [--sessions 500] [--repeat 5]
Seeds a fresh SQLite file (bench/out/reports.sqlite, schema from the real migrations), logs in through
the test client and times each page end to end (routing, queries, template). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import create_app, db  # noqa: E402
from app.database import upgrade_database  # noqa: E402
from app.models import (  # noqa: E402
    AttendanceCorrection, AttendanceRecord, AttendanceSession, Course, Student, Teacher, UnknownSighting,
)
from config import Config  # noqa: E402

log = logging.getLogger("bench_reports")
EMAIL, PASSWORD = "bench@example.com", "bench password"
T0 = datetime(2025, 9, 1, 8, 0)


def build_app(db_path: Path, work: Path):
    """An app on a fresh SQLite file with the real schema; no background threads, no mail."""
    if db_path.exists():
        db_path.unlink()
    overrides = {
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "START_BACKGROUND": False,
        "MAIL_ENABLED": False, "LOGIN_FAIL_DELAY_SECONDS": 0.0,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "INSTANCE_DIR": str(work / "instance"),
        "DATASET_DIR": str(work / "dataset"), "RECOGNIZER_DIR": str(work / "models"),
        "SNAPSHOT_DIR": str(work / "snapshots"), "UPLOAD_DIR": str(work / "uploads"),
        "CAMERA_VIDEO_DIR": str(work / "videos"),
    }
    app = create_app(Config, overrides)
    upgrade_database(app)
    return app


def seed(app, n_students: int, n_sessions: int) -> dict:
    """One teacher, one course, n_students x n_sessions marks (each student has their own habit)."""
    rng = random.Random(42)
    with app.app_context():
        teacher = Teacher(name="Bench Teacher", email=EMAIL,
                          password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
        db.session.add(teacher)
        db.session.flush()
        course = Course(teacher_id=teacher.id, name="Large course")
        db.session.add(course)
        db.session.flush()
        db.session.execute(insert(Student), [
            {"course_id": course.id, "name": f"Student {i:03d}", "roll_number": f"R{i:03d}",
             "created_at": T0 - timedelta(days=1)} for i in range(n_students)])
        db.session.execute(insert(AttendanceSession), [
            {"course_id": course.id, "source": "0", "source_label": "Room camera", "status": "ended",
             "started_at": T0 + timedelta(hours=8 * j), "ended_at": T0 + timedelta(hours=8 * j, minutes=50)}
            for j in range(n_sessions)])
        students = db.session.scalars(select(Student.id).where(Student.course_id == course.id)).all()
        sessions = db.session.execute(select(AttendanceSession.id, AttendanceSession.started_at)
                                      .where(AttendanceSession.course_id == course.id)).all()
        habit = {s: rng.uniform(0.5, 1.0) for s in students}
        records = []
        for sid, started in sessions:
            for st in students:
                present = rng.random() < habit[st]
                records.append({"session_id": sid, "student_id": st, "present": present,
                                "marked_by": "camera" if present else "teacher",
                                "first_seen_at": started + timedelta(seconds=rng.randint(0, 900)) if present else None,
                                "score": round(rng.uniform(0.5, 1.0), 3) if present else None,
                                "snapshot": None})
        for i in range(0, len(records), 20000):
            db.session.execute(insert(AttendanceRecord), records[i:i + 20000])
        db.session.execute(insert(UnknownSighting), [
            {"session_id": sessions[j % len(sessions)][0], "track_id": j, "seen_at": T0, "score": 0.1}
            for j in range(2 * n_sessions)])
        db.session.execute(insert(AttendanceCorrection), [
            {"session_id": sessions[0][0], "student_id": students[j], "teacher_id": teacher.id,
             "before": "absent", "after": "present", "reason": "bench"} for j in range(min(20, len(students)))])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        n_records = db.session.scalar(select(db.func.count(AttendanceRecord.id)))
        return {"course": course.id, "session": sessions[len(sessions) // 2][0], "student": students[0],
                "records": n_records}


def pages(ids: dict, n_sessions: int) -> list[tuple[str, str]]:
    """(label, url) for every report page and export."""
    c, s, st = ids["course"], ids["session"], ids["student"]
    last = (n_sessions + 49) // 50
    return [
        ("course page with reports panel", f"/courses/{c}"),
        ("statistics (per-student %)", f"/reports/courses/{c}"),
        ("statistics, under threshold by %", f"/reports/courses/{c}?low=1&sort=rate"),
        ("sessions list, page 1", f"/reports/courses/{c}/sessions"),
        (f"sessions list, page {last}", f"/reports/courses/{c}/sessions?page={last}"),
        ("chart.svg (last 60 sessions)", f"/reports/courses/{c}/chart.svg"),
        ("session page (roster 1/4)", f"/reports/sessions/{s}"),
        ("session page, absent, by score", f"/reports/sessions/{s}?show=absent&sort=score"),
        ("student history + %", f"/reports/students/{st}"),
        ("export session CSV", f"/reports/sessions/{s}/export.csv"),
        ("export course CSV (100k cells)", f"/reports/courses/{c}/export.csv"),
        ("export course XLSX (100k cells)", f"/reports/courses/{c}/export.xlsx"),
    ]


def measure(app, ids: dict, n_sessions: int, repeat: int) -> list[tuple[str, float, float, int]]:
    """Median and max milliseconds per page over `repeat` requests (after one warm-up)."""
    client = app.test_client()
    response = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, "login failed"
    results = []
    for label, url in pages(ids, n_sessions):
        status = client.get(url).status_code  # warm-up: template compile, SQLite page cache
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            response = client.get(url)
            response.get_data()
            times.append((time.perf_counter() - t) * 1000)
            status = response.status_code
        results.append((label, statistics.median(times), max(times), status))
    results.append(("reports panel alone (render_template)", *panel_times(app, ids["course"], repeat), 200))
    return results


def panel_times(app, course_id: int, repeat: int) -> tuple[float, float]:
    """The course page's attendance panel rendered on its own (the rest of that page is another area's)."""
    from flask import render_template
    from flask_login import login_user

    times = []
    with app.test_request_context():
        course = db.session.get(Course, course_id)
        login_user(course.teacher)
        for _ in range(repeat + 1):
            t = time.perf_counter()
            render_template("reports/_course_panel.html", course=course)
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times[1:]), max(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "reports.sqlite")
    parser.add_argument("--drop-index", default="", help="drop this index after seeding, to measure what it buys")
    args = parser.parse_args()
    args.db = args.db.resolve()  # Flask-SQLAlchemy would read a relative SQLite path under instance/
    logging.basicConfig(level=logging.WARNING)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        app = build_app(args.db, Path(work))
        t = time.perf_counter()
        ids = seed(app, args.students, args.sessions)
        seed_s = time.perf_counter() - t
        if args.drop_index:
            with app.app_context():
                db.session.execute(text(f'DROP INDEX "{args.drop_index}"'))
                db.session.commit()
        results = measure(app, ids, args.sessions, args.repeat)
        with app.app_context():
            db.engine.dispose()
    print(f"{args.students} students x {args.sessions} sessions = {ids['records']:,} records "
          f"(seeded in {seed_s:.1f} s), median/max of {args.repeat} requests after a warm-up"
          + (f", WITHOUT index {args.drop_index}" if args.drop_index else "") + "\n")
    print("| page | median ms | max ms | status |\n|---|---:|---:|---:|")
    for label, med, worst, status in results:
        print(f"| {label} | {med:.0f} | {worst:.0f} | {status} |")


if __name__ == "__main__":
    main()
