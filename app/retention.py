"""Personal data is kept only as long as needed: orphan and expired files are swept at start-up and daily."""
from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

from flask import Flask
from sqlalchemy import select, update

from . import db
from .models import AttendanceRecord, AttendanceSession, Course, Student, UnknownSighting

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600
# A file younger than this may belong to a row being written (snapshots are saved before their row).
IN_FLIGHT_SECONDS = 600
VERSION_FILE = re.compile(r"v(\d+)\.(joblib|json)")


def prune_versions(folder: Path, current: int | None) -> int:
    """Keep the recognizer in use and the one before it; delete older versions and stale temp files."""
    if not folder.is_dir():
        return 0
    versions = {int(m.group(1)) for p in folder.iterdir() if (m := VERSION_FILE.fullmatch(p.name))}
    older = [v for v in versions if current is not None and v < current]
    previous = max(older, default=None)
    removed = 0
    for path in folder.iterdir():
        m = VERSION_FILE.fullmatch(path.name)
        # Versions above the current one may be a training saving right now: only older ones go.
        stale = m is not None and int(m.group(1)) in older and int(m.group(1)) != previous
        if stale or (path.name.endswith(".tmp") and _age(path) > IN_FLIGHT_SECONDS):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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
                AttendanceSession.status == "running")))
            done += _models(Path(config["RECOGNIZER_DIR"]), courses)
            done += _dataset(Path(config["DATASET_DIR"]), students)
            done += _snapshots(Path(config["SNAPSHOT_DIR"]), sessions, int(config.get("SNAPSHOT_RETENTION_DAYS", 0)), now)
            done += _uploads(Path(config["UPLOAD_DIR"]), running, int(config.get("VIDEO_RETENTION_DAYS", 0)), now)
        finally:
            db.session.remove()
    if sum(done.values()):
        log.info("retention sweep deleted %s", dict(done))
    return done


def _models(root: Path, courses: Mapping[int, int | None]) -> Counter[str]:
    done: Counter[str] = Counter()
    for folder in _children(root, r"course_(\d+)"):
        course_id = int(folder.name.split("_", 1)[1])
        if course_id not in courses:
            shutil.rmtree(folder, ignore_errors=True)  # the course was deleted (maybe while training)
            done["model folders of deleted courses"] += 1
        else:
            done["old recognizer files"] += prune_versions(folder, courses[course_id])
    return done


def _dataset(root: Path, students: set[int]) -> Counter[str]:
    done: Counter[str] = Counter()
    for folder in _children(root, r"\d+"):
        if int(folder.name) not in students and _age(folder) > IN_FLIGHT_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            done["face folders of deleted students"] += 1
    return done


def _snapshots(root: Path, sessions: set[int], days: int, now: float) -> Counter[str]:
    """Folders of deleted sessions, files no row names, and (days > 0) files past the retention period."""
    done: Counter[str] = Counter()
    referenced = _referenced_snapshots()
    for folder in _children(root, r"session_(\d+)"):
        if int(folder.name.split("_", 1)[1]) not in sessions:
            shutil.rmtree(folder, ignore_errors=True)
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
    cutoff = datetime.fromtimestamp(before, timezone.utc)
    old = select(AttendanceSession.id).where(AttendanceSession.started_at < cutoff)
    db.session.execute(update(AttendanceRecord).where(AttendanceRecord.session_id.in_(old),
                                                      AttendanceRecord.snapshot.is_not(None)).values(snapshot=None))
    db.session.execute(update(UnknownSighting).where(UnknownSighting.session_id.in_(old),
                                                     UnknownSighting.snapshot.is_not(None)).values(snapshot=None))
    db.session.commit()


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


def _children(root: Path, pattern: str) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and re.fullmatch(pattern, p.name)]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _age(path: Path) -> float:
    return time.time() - _mtime(path)


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
