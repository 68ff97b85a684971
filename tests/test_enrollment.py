"""Enrollment from real photos and a real video, the quality gate, rejected files, bulk import."""
from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import db, jobs
from app.models import FaceSample, Job, Student
from app.vision import face_policy as quality
from app.vision.detector import merge_boxes
from app.vision.types import FaceBox
from conftest import DATASETS, needs_datasets, needs_detector
from helpers_web import course_of, faces94_people, images_of, new_student, upload_photos, write_video, zip_bytes

pytestmark = [needs_datasets, needs_detector]


@pytest.fixture(scope="module")
def person_images() -> list[Path]:
    return images_of(faces94_people(DATASETS, 1)[0], 20)


@pytest.fixture
def student(client, auth, app) -> int:
    return new_student(client, auth, app)


_upload = upload_photos


def _stored(app, student_id: int) -> tuple[list[FaceSample], list[Path]]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(FaceSample).where(FaceSample.student_id == student_id)))
    folder = Path(app.config["DATASET_DIR"]) / str(student_id)
    return rows, sorted(folder.glob("*")) if folder.exists() else []


def _jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_photos_are_stored_as_chips_with_rows(client, app, student, person_images):
    files = [(p.read_bytes(), p.name) for p in person_images[:3]]
    page = _upload(client, student, files).data.decode()
    assert "Added 3 face images" in page
    rows, paths = _stored(app, student)
    assert len(rows) == 3 and {r.filename for r in rows} == {p.name for p in paths}
    assert all(p.suffix == ".png" and len(p.stem) == 32 for p in paths)  # uuid names, never the upload's
    chip = cv2.imread(str(paths[0]))
    assert chip.shape == (192, 192, 3)
    assert all(r.source == "photo" and r.sharpness >= quality.MIN_SHARPNESS for r in rows)
    assert "Add about 5 more" in client.get(f"/students/{student}").data.decode()
    with client.get(f"/students/{student}/faces/{rows[0].id}.png") as response:
        assert response.status_code == 200 and response.data == paths[0].read_bytes() or response.data


def test_every_bad_file_gets_its_reason_and_nothing_is_half_saved(client, app, student, person_images):
    good = person_images[0].read_bytes()
    image = cv2.imread(str(person_images[0]))
    two_faces = (DATASETS / "detect" / "010_2.jpg").read_bytes()
    assert json.loads((DATASETS / "detect" / "faces.json").read_text())["images"]["010_2.jpg"]["n_faces"] == 2
    small = cv2.copyMakeBorder(cv2.resize(image, None, fx=0.35, fy=0.35), 100, 100, 100, 100,
                               cv2.BORDER_CONSTANT, value=(0, 160, 0))
    files = [
        (good[: len(good) // 2], "truncated.jpg"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 50 + b"\xff\xd9", "corrupt.jpg"),
        (b"name,roll\nAnn,7\n", "notes.jpg"),
        (_jpeg(np.full((240, 240, 3), (40, 160, 40), np.uint8)), "wall.jpg"),
        (two_faces, "group.jpg"),
        (_jpeg(small), "far.jpg"),
        (_jpeg(cv2.GaussianBlur(image, (0, 0), 4)), "shaky.jpg"),
        (_jpeg((image * 0.15).astype(np.uint8)), "night.jpg"),
    ]
    page = _upload(client, student, files).data.decode()
    expected = {"truncated.jpg": "the JPEG file is incomplete or corrupt",
                "corrupt.jpg": "the JPEG file is corrupt and cannot be read", "notes.jpg": "not a JPEG or PNG",
                "wall.jpg": "no face found", "group.jpg": "more than one face (2 found)",
                "far.jpg": "face too small", "shaky.jpg": "too blurry", "night.jpg": "too dark"}
    for name, reason in expected.items():
        assert f"{name}: rejected, {reason}" in page, (name, page[page.find('class="flashes"'):][:2000])
    assert "Added" not in page
    assert _stored(app, student) == ([], [])


def test_upload_without_files_and_too_large(client, app, student):
    page = client.post(f"/students/{student}/photos", data={}, follow_redirects=True).data.decode()
    assert "Choose one or more photos" in page
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = _upload(client, student, [(b"\xff\xd8\xff" + b"0" * 5000, "big.jpg")])
    assert response.status_code == 413 and b"too large" in response.data


def test_a_failed_commit_removes_the_written_files(client, app, student, person_images, monkeypatch):
    from app.students import enrollment

    def boom(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(enrollment.db.session.__class__, "commit", boom, raising=False)
    with app.app_context(), pytest.raises(RuntimeError):
        enrollment.enroll_photos(student, [("a.jpg", person_images[0].read_bytes())], app.config)
    monkeypatch.undo()
    assert _stored(app, student) == ([], [])


def test_video_is_sampled_in_a_job_with_progress(client, app, student, person_images, tmp_path):
    frames = [cv2.imread(str(p)) for p in person_images] * 2  # 40 frames at 12 fps, 3 sampled a second: 10
    video = write_video(tmp_path / "ann.avi", frames, fps=12.0)
    response = client.post(f"/students/{student}/video", content_type="multipart/form-data",
                           data={"video": (io.BytesIO(video.read_bytes()), "../../ann.avi")})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).data.decode()
    assert "Enrolling from a video" in page and 'http-equiv="refresh"' in page
    assert jobs.run_pending(app) == 1
    page = client.get(response.headers["Location"]).data.decode()
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        assert job.status == "done", job.message
        assert 8 <= job.result["accepted"] <= 10
    assert f"Accepted {job.result['accepted']} face" in page
    rows, paths = _stored(app, student)
    assert len(rows) == len(paths) == job.result["accepted"] and {r.source for r in rows} == {"video"}
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []  # the upload is removed after use


@pytest.mark.parametrize("content", [b"not a video at all", b""])
def test_unreadable_video_is_refused_at_once(client, app, student, content):
    response = client.post(f"/students/{student}/video", content_type="multipart/form-data",
                           data={"video": (io.BytesIO(content), "clip.mp4")}, follow_redirects=True)
    page = response.data.decode()
    assert "Video rejected" in page or "Choose a video file" in page
    with app.app_context():
        assert db.session.scalar(db.select(Job)) is None
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []


def test_delete_one_face_and_the_student(client, app, student, person_images):
    _upload(client, student, [(p.read_bytes(), p.name) for p in person_images[:2]])
    rows, paths = _stored(app, student)
    client.post(f"/students/{student}/faces/{rows[0].id}/delete")
    rows2, paths2 = _stored(app, student)
    assert len(rows2) == 1 and len(paths2) == 1 and not paths[0].exists() or not paths[1].exists()
    client.post(f"/students/{student}/delete")
    assert _stored(app, student) == ([], [])


def _course_with_existing_student(app) -> int:
    """A course holding student "Existing" with roll number 101 (bulk folders match it)."""
    course_id = course_of(app)
    with app.app_context():
        db.session.add(Student(course_id=course_id, name="Existing", roll_number="101"))
        db.session.commit()
    return course_id


def test_bulk_enroll_command_creates_and_matches_students(app, runner, auth, tmp_path):
    auth.signup()
    course_id = _course_with_existing_student(app)
    people = faces94_people(DATASETS, 2)
    root = tmp_path / "bulk"
    for folder, person in zip(("101", "Newbie"), people):
        (root / folder).mkdir(parents=True)
        for p in images_of(person, 3):
            (root / folder / p.name).symlink_to(p)
    (root / "Newbie" / "broken.jpg").write_bytes(b"oops")
    result = runner.invoke(args=["enroll", "--course", str(course_id), str(root)])
    assert result.exit_code == 0, result.output
    assert "Newbie (new student): 3 accepted, 1 rejected" in result.output
    assert "101: 3 accepted, 0 rejected" in result.output
    with app.app_context():
        students = {s.roll_number: len(s.samples) for s in db.session.scalars(db.select(Student))}
    assert students == {"101": 3, "Newbie": 3}
    assert runner.invoke(args=["enroll", "--course", "999", str(root)]).exit_code != 0
    (tmp_path / "empty").mkdir()
    result = runner.invoke(args=["enroll", "--course", str(course_id), str(tmp_path / "empty")])
    assert result.exit_code != 0 and "one folder of photos per student" in result.output


def test_gate_ignores_a_box_nested_in_the_face_and_edge_artifacts():
    face = FaceBox(10, 10, 130, 150, 1.0)
    part = FaceBox(90, 90, 140, 150, 0.6)  # mostly inside the face: a cheek, not a person
    assert quality.distinct_faces([face, part]) == [face]
    other = FaceBox(200, 20, 300, 130, 0.9)
    assert quality.distinct_faces([face, other]) == [face, other]
    corner = FaceBox(120, 100, 180, 200, 0.98)  # clipped by the 180x200 frame's edge
    assert merge_boxes([face], [corner], (200, 180, 3)) == [face]
    assert merge_boxes([], [corner], (200, 180, 3)) == [corner]


def test_bulk_zip_upload_runs_as_a_job(client, auth, app, tmp_path):
    auth.signup_and_login()
    course_id = _course_with_existing_student(app)
    people = faces94_people(DATASETS, 2)
    entries = {f"class/101/{p.name}": p.read_bytes() for p in images_of(people[0], 2)}
    entries.update({f"class/Zoë Park/{p.name}": p.read_bytes() for p in images_of(people[1], 2)})
    entries.update({"class/101/notes.txt": b"hi", "class/101/bad.jpg": b"x"})
    response = client.post(f"/courses/{course_id}/students/bulk", content_type="multipart/form-data",
                           data={"archive": (io.BytesIO(zip_bytes(entries)), "class.zip")})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    assert jobs.run_pending(app) == 1
    page = client.get(response.headers["Location"]).data.decode()
    assert "Kept 4 face images for 2 students (1 new); 1 photos rejected." in page and "Zoë Park" in page
    with app.app_context():
        students = {s.roll_number: (s.name, len(s.samples)) for s in db.session.scalars(db.select(Student))}
    assert students == {"101": ("Existing", 2), "Zoë Park": ("Zoë Park", 2)}
    assert "bad.jpg: not a JPEG or PNG image" in page
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []


def test_bulk_zip_rejects_a_non_zip_and_an_emptyzip_bytes(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    for content, reason in [(b"PK not really", "not a readable ZIP file"), (zip_bytes({"a.jpg": b"x"}), "the ZIP has no folder of photos")]:
        page = client.post(f"/courses/{course_id}/students/bulk", content_type="multipart/form-data",
                           data={"archive": (io.BytesIO(content), "class.zip")}, follow_redirects=True).data.decode()
        assert f"ZIP rejected: {reason}" in page
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []
    with app.app_context():
        assert db.session.scalar(db.select(Job)) is None


def test_missing_detector_weights_give_a_clear_page_and_save_nothing(client, app, student, person_images, tmp_path):
    """IT forgot the weights (or deleted them): the teacher is told what to ask for; nothing half-saved."""
    app.config["DETECTOR_DIR"] = str(tmp_path / "no-weights")
    response = client.post(f"/students/{student}/photos",
                           data={"photos": [(io.BytesIO(person_images[0].read_bytes()), "a.jpg")]},
                           content_type="multipart/form-data")
    page = response.data.decode()
    assert response.status_code == 503
    assert "face detector is not installed" in page and "fetch-models" in page
    rows, paths = _stored(app, student)
    assert rows == [] and paths == []
