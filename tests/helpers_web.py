"""Test helpers for the web areas: seed rows, real face images, small videos."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import cv2
import numpy as np

from app import db
from app.models import Course, FaceSample, Student, Teacher



def course_of(app, email: str = "teacher@example.com", name: str = "Physics") -> int:
    """Create a course for an existing teacher directly; returns its id."""
    with app.app_context():
        teacher = db.session.scalar(db.select(Teacher).where(Teacher.email == email))
        course = Course(teacher_id=teacher.id, name=name)
        db.session.add(course)
        db.session.commit()
        return course.id


def student_with_chip(app, course_id: int, roll: str = "1", name: str = "Sam") -> tuple[int, int]:
    """A student with one stored chip file and row; returns (student id, sample id)."""
    with app.app_context():
        student = Student(course_id=course_id, name=name, roll_number=roll)
        db.session.add(student)
        db.session.commit()
        folder = Path(app.config["DATASET_DIR"]) / str(student.id)
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / "a.png"), np.full((192, 192, 3), 120, np.uint8))
        sample = FaceSample(student_id=student.id, filename="a.png", source="photo")
        db.session.add(sample)
        db.session.commit()
        return student.id, sample.id


def faces94_people(datasets: Path, n: int) -> list[Path]:
    """The first n identity folders of faces94 (sorted, stable)."""
    return sorted(p for p in (datasets / "faces94").iterdir() if p.is_dir() and p.name != "unknown_id11")[:n]


def images_of(person: Path, n: int) -> list[Path]:
    """The first n images of an identity folder."""
    return sorted(p for p in person.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".pgm"))[:n]


def write_video(path: Path, frames: list[np.ndarray], fps: float = 6.0) -> Path:
    """An MJPG .avi from BGR frames (all resized to the first frame's size)."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "cv2.VideoWriter cannot write MJPG here"
    for frame in frames:
        writer.write(cv2.resize(frame, (w, h)))
    writer.release()
    return path


def seed_student_chips(app, course_id: int, roll: str, chips: list[np.ndarray]) -> int:
    """A student whose enrolled chips are written straight to dataset/ (skips the detector)."""
    with app.app_context():
        student = Student(course_id=course_id, name=f"Student {roll}", roll_number=roll)
        db.session.add(student)
        db.session.commit()
        folder = Path(app.config["DATASET_DIR"]) / str(student.id)
        folder.mkdir(parents=True, exist_ok=True)
        for i, chip in enumerate(chips):
            cv2.imwrite(str(folder / f"{i}.png"), chip)
            db.session.add(FaceSample(student_id=student.id, filename=f"{i}.png", source="photo"))
        db.session.commit()
        return student.id


def new_student(client, auth, app, name: str = "Ann", roll: str = "7") -> int:
    """Sign up and log in a teacher, make a course and add one student through the form; returns its id."""
    auth.signup_and_login()
    course_id = course_of(app)
    client.post(f"/courses/{course_id}/students/new", data={"name": name, "roll_number": roll})
    with app.app_context():
        return db.session.scalar(db.select(Student.id).where(Student.roll_number == roll))


def upload_photos(client, student_id: int, files: list[tuple[bytes, str]]):
    """POST (content, filename) pairs to a student's photo upload and follow the redirect."""
    data = {"photos": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"/students/{student_id}/photos", data=data, content_type="multipart/form-data",
                       follow_redirects=True)


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A ZIP archive in memory holding {entry name: content}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()
