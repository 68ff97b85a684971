"""Runs a classroom scenario through the real app: enrollment, training, CameraService, recorder, DB; then scores it."""
from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classroom import Classroom, Person, enrollment_photo
from common import bench_app


def make_app(folder: Path, **overrides: Any):
    """A Rollcall app whose database, dataset and models live in folder (migrations applied)."""
    return bench_app(folder, SECRET_KEY="classroom", **overrides)


def enroll(app, room: Classroom, features: str = "pixels") -> tuple[int, dict[str, int], dict[str, Any]]:
    """Course, students and their photos through the app's own services, then train; (course id, ids, summary)."""
    from app import db
    from app.courses.service import create_course
    from app.courses.training import train_course
    from app.models import Teacher
    from app.students.enrollment import enroll_photos
    from app.students.service import create_student

    ids: dict[str, int] = {}
    with app.app_context():
        teacher = Teacher(name="Teacher", email="teacher@example.org", password_hash="x")
        db.session.add(teacher)
        db.session.commit()
        course = create_course(teacher.id, "Whole class", features)
        for i, person in enumerate(p for p in room.people if p.enrolled):
            student = create_student(course, person.name, f"R{i + 1:02d}", None)
            ids[person.name] = student.id
            photos = [(f"{p.stem}.png", _png(enrollment_photo(person, p))) for p in person.enroll]
            enroll_photos(student.id, photos, app.config)
        summary = train_course(course.id, app.config)
        course_id = course.id
        db.session.remove()
    return course_id, ids, summary


def _png(image) -> bytes:
    """A photo as PNG bytes: uploads take JPEG or PNG, and ORL ships PGM (a teacher would convert it)."""
    import cv2

    ok, data = cv2.imencode(".png", image)
    return data.tobytes() if ok else b""


class TeeQueue(queue.Queue):
    """The workers' event queue, also noting each event with the box of its track at that moment."""

    def __init__(self, maxsize: int = 1000) -> None:
        super().__init__(maxsize)
        self.seen: list[tuple[float, Any, Any]] = []  # (monotonic time, event, FaceBox | None)
        self.workers: list[Any] = []

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        box = None
        for worker in self.workers:
            track = worker.tracker.tracks.get(getattr(item, "track_id", -1))
            box = track.box if track is not None else box
        self.seen.append((time.monotonic(), item, box))
        super().put(item, block, timeout)


@dataclass
class Score:
    """What a run did against the ground truth of the scene."""

    right: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    strangers_reported: dict[str, int] = field(default_factory=dict)
    students_called_unknown: int = 0
    unplaced_unknowns: int = 0
    mark_times: list[float] = field(default_factory=list)  # wall seconds from the source's start
    mark_video_times: list[float] = field(default_factory=list)  # the same on the video's clock (unpaced runs)
    db_marked: int = 0
    db_sightings: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    wall: float = 0.0

    def row(self) -> dict[str, Any]:
        """A flat summary for tables and asserts."""
        reported_once = sum(1 for n in self.strangers_reported.values() if n == 1)
        return {
            "right": len(self.right), "wrong": len(self.wrong), "missed": len(self.missed),
            "strangers_once": reported_once, "strangers": len(self.strangers_reported),
            "stranger_reports": sum(self.strangers_reported.values()), "students_unknown": self.students_called_unknown,
            "fps": self.stats.get("frames", 0) / self.wall if self.wall else 0.0,
            "time_to_all": max(self.mark_times) if self.mark_times and not self.missed else None,
            "median_mark": sorted(self.mark_times)[len(self.mark_times) // 2] if self.mark_times else None,
            "last_mark_video": max(self.mark_video_times) if self.mark_video_times else None,
            "db_marked": self.db_marked, "db_sightings": self.db_sightings,
        }


def run(app, course_id: int, video: Path, room: Classroom, ids: dict[str, int], timeout: float = 120.0) -> Score:
    """Start attendance on the video through CameraService with a real recorder; score marks and sightings."""
    from sqlalchemy import func, select

    from app import db
    from app.attendance.camera_service import camera_service
    from app.attendance.recorder import Recorder
    from app.models import AttendanceRecord, UnknownSighting
    from app.vision.events import Marked, UnknownSeen

    service = camera_service(app)
    tee = service.events = TeeQueue()
    recorder = Recorder(app, tee)
    recorder.start()
    start = time.monotonic()
    with app.app_context():
        session_id = service.start(course_id, str(video), email=False)
        db.session.remove()
    worker = service.worker(session_id)
    tee.workers.append(worker)
    worker.done.wait(timeout)
    wall = time.monotonic() - start
    service.stop(session_id)
    recorder.stop(30)
    by_id = {sid: name for name, sid in ids.items()}
    people = {p.name: p for p in room.people}
    t0 = getattr(worker.source, "_t0", start)
    score = Score(stats=worker.stats(), wall=wall)
    score.strangers_reported = {s.person.name: 0 for s in room.seats if not s.person.enrolled}
    for when, event, box in tee.seen:
        seat = room.seat_at((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2) if box is not None else None
        if isinstance(event, Marked):
            name = by_id.get(event.student_id, "?")
            if seat is not None and seat.person.name == name and name not in score.right:
                score.right.append(name)
                score.mark_times.append(when - t0)
                score.mark_video_times.append(event.source_t)
            elif seat is None or seat.person.name != name:
                score.wrong.append(f"{name} on {seat.person.name if seat else 'no seat'}")
        elif isinstance(event, UnknownSeen):
            if seat is None:
                score.unplaced_unknowns += 1
            elif seat.person.enrolled:
                score.students_called_unknown += 1
            elif event.new_stranger:  # later tracks of the same stranger are grouped: no second alert
                score.strangers_reported[seat.person.name] += 1
    present = [p.name for p in people.values() if p.enrolled and p.present and any(s.person is p for s in room.seats)]
    score.missed = [n for n in present if n not in score.right]
    with app.app_context():
        score.db_marked = db.session.scalar(select(func.count()).select_from(AttendanceRecord).where(
            AttendanceRecord.session_id == session_id, AttendanceRecord.present.is_(True))) or 0
        score.db_sightings = db.session.scalar(select(func.count()).select_from(UnknownSighting).where(
            UnknownSighting.session_id == session_id)) or 0
        db.session.remove()
    return score


def present_students(room: Classroom) -> list[Person]:
    """Enrolled people who sit in the room."""
    seated = {s.person.name for s in room.seats}
    return [p for p in room.people if p.enrolled and p.name in seated]
