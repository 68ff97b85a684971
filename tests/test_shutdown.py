"""SIGTERM stops a served process in order: the recorder writes every queued event before it exits."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from conftest import ON_POSTGRES, test_config
from sqlalchemy import func, select

from app import create_app, db
from app.attendance import service
from app.database import upgrade_database
from app.models import AttendanceRecord, Course, Student, Teacher
from config import BASE_DIR, Config

STUDENTS = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _records_locked(url: str):
    """Hold a write lock on the attendance records from outside, so the recorder has to wait."""
    if ON_POSTGRES:
        with psycopg.connect(url) as conn:
            conn.execute("LOCK TABLE attendance_record IN EXCLUSIVE MODE")
            yield
            conn.rollback()
        return
    import sqlite3

    conn = sqlite3.connect(url[len("sqlite:///"):], timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # SQLite's single writer lock: readers go on, writers wait
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _seed(tmp_path: Path) -> tuple[dict, int, list[int]]:
    overrides = test_config(tmp_path, START_BACKGROUND=True)
    app = create_app(Config, overrides)
    upgrade_database(app)
    with app.app_context():
        course = Course(teacher=Teacher(name="T", email="t@example.org", password_hash="x"), name="Chemistry")
        students = [Student(course=course, name=f"S{i}", roll_number=str(i)) for i in range(STUDENTS)]
        db.session.add_all(students)
        db.session.commit()
        ids = [s.id for s in students]
        session_id = service.create_session(course.id, "0", "webcam 0", None)
        db.session.remove()
        db.engine.dispose()
    return overrides, session_id, ids


def _count(overrides: dict, session_id: int) -> int:
    app = create_app(Config, {**overrides, "START_BACKGROUND": False})
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(AttendanceRecord)
                              .where(AttendanceRecord.session_id == session_id))
        db.session.remove()  # give the connection back before the pool is closed
        db.engine.dispose()
    return n


def test_sigterm_drains_the_recorder_queue_before_exit(tmp_path):
    overrides, session_id, students = _seed(tmp_path)
    env = {**os.environ, "ROLLCALL_HARNESS_CONFIG": json.dumps(overrides)}
    with subprocess.Popen([sys.executable, "-m", "tests.serve_harness", str(_free_port()), str(session_id),
                           *map(str, students)], cwd=BASE_DIR, env=env, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(1.0)  # start-up writes (closing interrupted sessions) happen before the lock
            with _records_locked(overrides["SQLALCHEMY_DATABASE_URI"]):
                proc.stdin.write("go\n")
                proc.stdin.flush()
                assert proc.stdout.readline().strip() == "queued"
                proc.send_signal(signal.SIGTERM)
                time.sleep(1.5)
                # Still alive: draining, blocked by our lock (the old run.py died here, events unwritten).
                assert proc.poll() is None
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        log = proc.stderr.read()
    assert "SIGTERM received" in log and "stopped: cameras, recorder, jobs" in log, log[-3000:]
    assert _count(overrides, session_id) == STUDENTS
