"""Personal data is kept only as long as needed: orphan and expired files are swept at start-up and daily."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from flask import Flask
from sqlalchemy import select

from . import db
from .attendance.records import forget_snapshots_before
from .models import AttendanceRecord, AttendanceSession, Course, SessionStatus, Student, UnknownSighting
from .storage import IN_FLIGHT_SECONDS, Storage, age_seconds, prune_versions, storage

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600
__all__ = ["RetentionSweeper", "prune_versions", "sweep"]  # prune_versions lives in app.storage


def sweep(app: Flask, now: float | None = None) -> Counter[str]:
    """One pass over the data folders; returns what was deleted, by kind."""
    now = time.time() if now is None else now
    config = app.config
    done: Counter[str] = Counter()
    with app.app_context():
        try:
            courses = dict(db.session.execute(select(Course.id, Course.recognizer_version)).all())
            students = set(db.session.scalars(select(Student.id)))
            sessions = set(db.session.scalars(select(AttendanceSession.id)))
            running = set(db.session.scalars(select(AttendanceSession.source).where(
                AttendanceSession.status == SessionStatus.RUNNING)))
            files = storage(config)
            done += _models(files, courses)
            done += _dataset(files, students)
            done += _snapshots(files, sessions, int(config["SNAPSHOT_RETENTION_DAYS"]), now)
            done += _uploads(files.upload_dir, running, int(config["VIDEO_RETENTION_DAYS"]), now)
        finally:
            db.session.remove()
    if sum(done.values()):
        log.info("retention sweep deleted %s", dict(done))
    return done


def _models(files: Storage, courses: Mapping[int, int | None]) -> Counter[str]:
    done: Counter[str] = Counter()
    for course_id in files.course_dirs():
        if course_id not in courses:
            files.delete_recognizers(course_id)  # the course was deleted (maybe while training)
            done["model folders of deleted courses"] += 1
        else:
            done["old recognizer files"] += files.prune_versions(course_id, courses[course_id])
    return done


def _dataset(files: Storage, students: set[int]) -> Counter[str]:
    done: Counter[str] = Counter()
    for student_id, folder in files.student_dirs().items():
        if student_id not in students and age_seconds(folder) > IN_FLIGHT_SECONDS:
            files.delete_student_chips(student_id)
            done["face folders of deleted students"] += 1
    return done


def _snapshots(files: Storage, sessions: set[int], days: int, now: float) -> Counter[str]:
    """Folders of deleted sessions, files no row names, and (days > 0) files past the retention period."""
    done: Counter[str] = Counter()
    referenced = _referenced_snapshots()
    for session_id, folder in files.session_dirs().items():
        if session_id not in sessions:
            files.delete_session_snapshots(session_id)
            done["snapshot folders of deleted sessions"] += 1
            continue
        for path in folder.iterdir():
            rel = f"{folder.name}/{path.name}"
            expired = days > 0 and now - _mtime(path) > days * DAY_SECONDS
            orphan = rel not in referenced and now - _mtime(path) > IN_FLIGHT_SECONDS
            if expired or orphan:
                path.unlink(missing_ok=True)
                done["expired snapshots" if expired else "snapshots with no row"] += 1
    if days > 0:
        _forget_expired(now - days * DAY_SECONDS)
    return done


def _referenced_snapshots() -> set[str]:
    names = set(db.session.scalars(select(AttendanceRecord.snapshot).where(AttendanceRecord.snapshot.is_not(None))))
    names |= set(db.session.scalars(select(UnknownSighting.snapshot).where(UnknownSighting.snapshot.is_not(None))))
    return names


def _forget_expired(before: float) -> None:
    """Rows keep their marks, but no longer name a snapshot that the retention period removed."""
    forget_snapshots_before(datetime.fromtimestamp(before, timezone.utc))


def _uploads(root: Path, running_sources: set[str], days: int, now: float) -> Counter[str]:
    """Uploaded videos no running session uses (attendance) and anything past VIDEO_RETENTION_DAYS."""
    done: Counter[str] = Counter()
    if not root.is_dir():
        return done
    in_use = {str(Path(s).resolve()) for s in running_sources if s}
    for path in root.rglob("*"):
        if not path.is_file() or str(path.resolve()) in in_use:
            continue
        # Attendance uploads live in attendance/<hex>/<teacher's file name> (earlier: attendance/<hex>.mp4).
        attendance = ("attendance" in (path.parent.name, path.parent.parent.name)
                      and now - _mtime(path) > IN_FLIGHT_SECONDS)
        if attendance or (days > 0 and now - _mtime(path) > days * DAY_SECONDS):
            path.unlink(missing_ok=True)
            done["uploaded files"] += 1
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if folder.parent.name == "attendance" and not any(folder.iterdir()):
            folder.rmdir()
    return done


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


class RetentionSweeper(threading.Thread):
    """Sweeps at start and then once a day until stopped (started by run.py with the server)."""

    def __init__(self, app: Flask, every_seconds: float = DAY_SECONDS) -> None:
        super().__init__(name="retention-sweeper", daemon=True)
        self.app, self.every = app, every_seconds
        self.stop_event = threading.Event()
        self.passes = 0

    def run(self) -> None:
        """Sweep, wait, repeat; one failed pass is logged and the next one tries again."""
        while True:
            try:
                sweep(self.app)
            except Exception:  # noqa: BLE001  (a locked file must not end the daily sweep)
                log.exception("retention sweep failed")
            self.passes += 1
            if self.stop_event.wait(self.every):
                return

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread."""
        self.stop_event.set()
        self.join(timeout)
