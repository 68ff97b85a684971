"""Builds what the live-attendance tests need from ../shared/datasets/faces94 at run time.

A recognizer trained on chips of a few people's first frames, and 640x480 videos of their
other frames plus `unknown_id11`, who is never enrolled.
"""
from __future__ import annotations

import functools
from pathlib import Path

import cv2
import pytest
import numpy as np

from app.vision.detector import FaceDetector
from conftest import DATASETS
from app.vision.features import get_extractor
from app.vision.preprocess import face_chip
from app.vision.recognizer import Recognizer

FACES94 = DATASETS / "faces94"  # ROLLCALL_SHARED honoured, as in conftest (worktrees sit deeper)
PEOPLE = ["9336923", "9338535", "anpage", "asamma", "asewil", "astefa"]
UNKNOWN = "unknown_id11"
TRAIN_FRAMES = 8
FRAME_SIZE = (640, 480)


def person_frames(person: str, root: Path = FACES94) -> list[np.ndarray]:
    """A person's images in frame order (name.1.jpg .. name.20.jpg; test1.jpg .. for the unknown)."""
    def order(p: Path) -> int:
        digits = "".join(ch for ch in p.stem.rsplit(".", 1)[-1] if ch.isdigit())
        return int(digits or 0)

    return [cv2.imread(str(p)) for p in sorted((root / person).glob("*.jpg"), key=order)]


def train_recognizer(detector: FaceDetector, labels: dict[str, int], features: str = "pixels") -> Recognizer:
    """A Recognizer on chips of each person's first TRAIN_FRAMES frames; label = the given student id."""
    chips, y = [], []
    for person, label in labels.items():
        for image in person_frames(person)[:TRAIN_FRAMES]:
            boxes = detector.detect_padded(image)
            if boxes:
                chips.append(face_chip(image, boxes[0]))
                y.append(label)
    extractor = get_extractor(features)
    X = extractor.from_chips(chips)
    return Recognizer(target_far=0.01, feature_pipeline=extractor.pipeline).fit(X, np.array(y))


def place(canvas: np.ndarray, image: np.ndarray, x: int, y: int, width: int | None = None) -> None:
    """Paste an image (scaled to width) onto a canvas at (x, y)."""
    if width is not None and width != image.shape[1]:
        image = cv2.resize(image, (width, int(round(image.shape[0] * width / image.shape[1]))))
    h, w = image.shape[:2]
    canvas[y:y + h, x:x + w] = image


def scene_frames(people: list[str], frames_each: int, gap: int = 10, start: int = TRAIN_FRAMES) -> list[np.ndarray]:
    """One person at a time, each at a new spot, blank frames between them (so tracks never merge)."""
    out: list[np.ndarray] = []
    for i, person in enumerate(people):
        images = person_frames(person)
        images = images[start:] if len(images) > start else images
        x, y = 40 + (i % 3) * 200, 40 + (i // 3 % 2) * 220
        for k in range(frames_each):
            canvas = np.zeros((FRAME_SIZE[1], FRAME_SIZE[0], 3), np.uint8)
            place(canvas, images[k % len(images)], x, y)
            out.append(canvas)
        out.extend(np.zeros((FRAME_SIZE[1], FRAME_SIZE[0], 3), np.uint8) for _ in range(gap))
    return out


def group_frames(people: list[str], n_frames: int, lead: int = 0, start: int = TRAIN_FRAMES) -> list[np.ndarray]:
    """Everyone at once in a grid (after `lead` blank frames), faces cycling through their frames."""
    images = {p: person_frames(p) for p in people}
    out = [np.zeros((FRAME_SIZE[1], FRAME_SIZE[0], 3), np.uint8) for _ in range(lead)]
    cols = min(3, len(people))
    width = 180 if len(people) <= 3 else 150
    for k in range(n_frames):
        canvas = np.zeros((FRAME_SIZE[1], FRAME_SIZE[0], 3), np.uint8)
        for i, person in enumerate(people):
            seq = images[person][start:] or images[person]
            place(canvas, seq[k % len(seq)], 20 + (i % cols) * 210, 20 + (i // cols) * 230, width)
        out.append(canvas)
    return out


def write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """An MJPG .avi (always available in OpenCV builds) of the frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, FRAME_SIZE)
    assert writer.isOpened(), f"cannot write {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@functools.lru_cache(maxsize=1)
def trained() -> Recognizer:
    """One recognizer for the whole test run (training cross-validates: seconds of CPU)."""
    from config import Config

    from app.pipeline import new_detector

    detector = new_detector({k: getattr(Config, k) for k in dir(Config) if k.isupper()})
    return train_recognizer(detector, {person: i + 1 for i, person in enumerate(PEOPLE)})


def seed_course(app, email: str = "teacher@example.org", trained_version: bool = True) -> tuple[int, int]:
    """A teacher and a course whose students 1..6 are PEOPLE (ids match the recognizer's labels)."""
    from app import db
    from app.models import Course, Student, Teacher
    from app.pipeline import recognizer_path

    with app.app_context():
        teacher = Teacher(name="Teacher", email=email, password_hash="x")
        course = Course(teacher=teacher, name="Biology 101", features="pixels")
        db.session.add_all([teacher, course])
        db.session.flush()
        for i, person in enumerate(PEOPLE, start=1):
            db.session.add(Student(id=i, course_id=course.id, name=f"Student {person}", roll_number=f"R{i:02d}"))
        if trained_version:
            trained().save(recognizer_path(app.config, course.id, 1))
            course.recognizer_version = 1
        db.session.commit()
        ids = teacher.id, course.id
        db.session.remove()
    return ids


class MailSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives (start/stop at will)."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as s:  # aiosmtpd cannot use port 0: pick a free port ourselves
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.messages: list = []
        self.controller = None

    def start(self) -> "MailSink":
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
                import email
                from email import policy

                sink.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> dict:
        return {"MAIL_ENABLED": True, "MAIL_HOST": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USER": "",
                "MAIL_PASSWORD": "", "MAIL_SENDER": "rollcall@example.org", "MAIL_SSL": False, "MAIL_STARTTLS": False,
                "MAIL_RETRY_MAX_SECONDS": 1.0}


def wait_for(predicate, timeout: float = 30.0, every: float = 0.05) -> bool:
    """Poll until predicate() is true or the timeout passes."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


@pytest.fixture
def sink():
    """A running MailSink (tests may stop and restart it)."""
    server = MailSink().start()
    yield server
    server.stop()


@pytest.fixture
def live_app(tmp_path, sink):
    """An app that mails to `sink` and runs videos unpaced with detection on every frame (deterministic)."""
    from conftest import test_config

    from app import create_app, db
    from app.attendance.camera_service import camera_service
    from app.database import upgrade_database
    from config import Config

    application = create_app(Config, test_config(tmp_path, CAMERA_DETECT_EVERY=1, CAMERA_VIDEO_REALTIME=False,
                                                 **sink.config()))
    upgrade_database(application)
    yield application
    background = application.extensions.get("background")
    if background:
        background.stop()
    camera_service(application).stop_all()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
