"""Runs a Scenario through the real app: enrollment and training as a teacher would, then the real
CameraService worker and Recorder thread on the scenario's video, scored against the truth."""
from __future__ import annotations

import queue
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scenarios import FPS, Cast, Scenario  # noqa: E402


class TeeQueue(queue.Queue):
    """The camera service's event queue, keeping a copy of every event for scoring."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.seen: list[Any] = []

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        self.seen.append(item)


def make_app(folder: Path, realtime: bool = False, **extra: Any):
    """An app with its files under folder; videos unpaced with detection every frame unless realtime."""
    from common import bench_app

    overrides: dict[str, Any] = {"CAMERA_VIDEO_REALTIME": realtime, "CAMERA_DETECT_EVERY": 0 if realtime else 1}
    if not realtime:
        # Unpaced accuracy rows judge every face of every frame, independent of machine speed: the
        # per-frame recognition budget and the embedding process are real-time mechanisms (the
        # real-time rows keep them), and with them a 1 s doorway pass got too few dlib votes.
        overrides.update({"CAMERA_RECOGNITION_BUDGET_MS": 0.0, "CAMERA_EMBED_PROCESS": False})
    overrides.update(extra)
    app = bench_app(folder, SECRET_KEY="scenario-bench", **overrides)
    return app


def enroll(app, cast: Cast, features: str, teacher_email: str = "bench@example.org",
           accepted: dict[str, int] | None = None) -> tuple[int, dict[int, str]]:
    """Teacher, course, one student per enrolled person, their photos through enrollment, then training.

    accepted, when given, receives how many photos the enrollment gate kept per person.
    """
    from app import db
    from app.auth.service import create_teacher
    from app.courses.service import create_course
    from app.courses.training import train_course
    from app.models import Course
    from app.students.enrollment import enroll_image_files
    from app.students.service import create_student

    with app.app_context():
        teacher = create_teacher("Bench Teacher", teacher_email, "a long scenario bench passphrase")
        course = create_course(teacher.id, f"Scenario {cast.root.name}", features)
        students = {}
        for i, person in enumerate(cast.enrolled, start=1):
            student = create_student(course, f"Student {person}", f"R{i:03d}", None)
            result = enroll_image_files(student.id, uploadable(cast.enroll_images[person], app.config), app.config)
            if accepted is not None:
                accepted[person] = result.accepted
            students[student.id] = person
        train_course(course.id, app.config)
        course_id = db.session.get(Course, course.id).id
        db.session.remove()
    return course_id, students


def uploadable(paths: list[Path], config: Any) -> list[Path]:
    """The photos as a teacher could upload them: PGM (ORL) converted to PNG, the rest as they are."""
    import cv2

    out = []
    for path in paths:
        if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            out.append(path)
            continue
        target = Path(config["UPLOAD_DIR"]) / "converted" / f"{path.parent.name}_{path.stem}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), cv2.imread(str(path), cv2.IMREAD_COLOR))
        out.append(target)
    return out


@dataclass
class Score:
    """How one session went against the truth."""

    scenario: str
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # "marked X while Y was there"
    missed: list[str] = field(default_factory=list)
    stranger_emails: int = 0  # emails about real strangers (first per stranger)
    repeat_emails: int = 0  # a second email about the same stranger
    false_alerts: list[str] = field(default_factory=list)  # emails about an enrolled student / bystander / nobody
    unreported: list[str] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    fps: float = 0.0
    splits: int = 0
    enrolled_shown: int = 0
    strangers_shown: int = 0

    @property
    def delay_median(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    @property
    def perfect(self) -> bool:
        return not (self.wrong or self.missed or self.repeat_emails or self.false_alerts or self.unreported)


def run(app, course_id: int, students: dict[int, str], scenario: Scenario, video: Path,
        stats: dict | None = None) -> Score:
    """The scenario's video through CameraService + Recorder; the DB rows scored against the truth."""
    from app import db
    from app.attendance.camera_service import camera_service
    from app.attendance.recorder import QUEUE_SIZE
    from app.background import start_background
    from app.models import AttendanceRecord, UnknownSighting
    from app.vision.events import Marked, UnknownSeen
    from sqlalchemy import select

    cameras = camera_service(app)
    if not isinstance(cameras.events, TeeQueue):
        # Before the recorder starts, so it reads this queue.
        cameras.events = TeeQueue(QUEUE_SIZE)
    tee: TeeQueue = cameras.events  # type: ignore[assignment]
    background = start_background(app, force=True, close_interrupted=False, sender=False)
    first_event = len(tee.seen)
    with app.app_context():
        session_id = cameras.start(course_id, str(video))
    worker = cameras.worker(session_id)
    worker.join(600)
    background.recorder.flush(60)
    worker_stats = worker.stats()
    if stats is not None:
        stats.update(worker_stats)
    events = tee.seen[first_event:]
    with app.app_context():
        marked = set(db.session.scalars(select(AttendanceRecord.student_id).where(
            AttendanceRecord.session_id == session_id, AttendanceRecord.present.is_(True))))
        emailed = list(db.session.scalars(select(UnknownSighting.track_id).where(
            UnknownSighting.session_id == session_id, UnknownSighting.emailed.is_(True))))
        db.session.remove()
    score = Score(scenario.name, fps=worker_stats["fps"], splits=worker_stats.get("track_splits", 0),
                  enrolled_shown=len(scenario.shown_enrolled), strangers_shown=len(scenario.shown_strangers))
    marks = {e.student_id: e for e in events if isinstance(e, Marked)}
    right = set()
    for student_id in marked:
        event, person = marks.get(student_id), students.get(student_id, f"student {student_id}")
        seen = scenario.who(event.source_t, _box(event.box)) if event else None
        if seen is not None and seen.identity == person:
            right.add(person)
            score.delays.append(event.source_t - scenario.first_frame(person) / FPS)
        else:
            score.wrong.append(f"marked {person} while {seen.identity if seen else 'nobody'} was there")
    score.right = len(right)
    score.missed = sorted(scenario.shown_enrolled - right)
    unknown = {e.track_id: e for e in events if isinstance(e, UnknownSeen)}
    reported: dict[str, int] = {}
    for track_id in emailed:
        event = unknown.get(track_id)
        seen = scenario.who(event.source_t, _box(event.box)) if event else None
        if seen is not None and seen.identity in scenario.shown_strangers and seen.judgeable:
            reported[seen.identity] = reported.get(seen.identity, 0) + 1
        else:
            kind = "bystander" if seen is not None and not seen.judgeable else "enrolled"
            score.false_alerts.append(f"{kind} {seen.identity}" if seen else "nobody")
    score.stranger_emails = len(reported)
    score.repeat_emails = sum(n - 1 for n in reported.values())
    score.unreported = sorted(scenario.shown_strangers - set(reported))
    return score


def _box(box: Any) -> tuple[int, int, int, int] | None:
    return None if box is None else (box.x1, box.y1, box.x2, box.y2)
