"""Hostile and broken uploads (issue 14, items 2, 8 and 9): real files made in tmp_path, no mocks."""
from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import create_app, db, jobs
from app.models import FaceSample, Job, Student
from config import Config
from conftest import DATASETS, needs_datasets, needs_detector, test_config
from helpers_web import course_of, faces94_people, images_of, new_student, upload_photos, zip_bytes

pytestmark = [needs_datasets, needs_detector]


def _png_header_bomb(width: int, height: int) -> bytes:
    """A real, valid 1-bit grey PNG of width x height zeros: ~100 KB on disk, GBs once decoded to BGR."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture
def student(client, auth, app) -> int:
    return new_student(client, auth, app)


_upload = upload_photos


def _samples(app, student_id: int) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(FaceSample).where(FaceSample.student_id == student_id)).all())


@pytest.mark.parametrize("side", [30000, 50000])
def test_a_huge_png_is_refused_from_its_header_without_decoding(client, app, student, side):
    bomb = _png_header_bomb(side, side)
    assert len(bomb) < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    response = _upload(client, student, [(bomb, "bomb.png")])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    page = response.data.decode()
    assert response.status_code == 200
    assert f"bomb.png: rejected, the image is too large ({side}x{side} pixels; at most 40 megapixels)" in page
    assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MB"
    assert _samples(app, student) == 0


def test_one_tiny_image_in_a_batch_of_ten_is_refused_alone(client, app, student):
    photos = images_of(faces94_people(DATASETS, 1)[0], 9)
    one_pixel = cv2.imencode(".png", np.zeros((1, 1, 3), np.uint8))[1].tobytes()
    files = [(p.read_bytes(), p.name) for p in photos[:4]] + [(one_pixel, "dot.png")] + \
            [(p.read_bytes(), p.name) for p in photos[4:]]
    page = _upload(client, student, files).data.decode()
    assert "dot.png: rejected, the image is too small (1x1 pixels)" in page
    assert "Added 9 face images" in page
    assert _samples(app, student) == 9


def _post_zip(client, course_id: int, content: bytes):
    return client.post(f"/courses/{course_id}/students/bulk", content_type="multipart/form-data",
                       data={"archive": (io.BytesIO(content), "class.zip")}, follow_redirects=True)


@pytest.mark.parametrize("evil", ["../../evil.jpg", "class/101/../../../evil.jpg", "/etc/evil.jpg",
                                  "C:/evil.jpg", "class\\..\\..\\evil.jpg"])
def test_a_zip_with_an_entry_outside_it_is_refused_whole(client, auth, app, evil):
    auth.signup_and_login()
    course_id = course_of(app)
    good = images_of(faces94_people(DATASETS, 1)[0], 1)[0]
    page = _post_zip(client, course_id, zip_bytes({f"class/101/{good.name}": good.read_bytes(), evil: b"x"})).data.decode()
    assert "ZIP rejected: the entry" in page and "points outside the ZIP" in page
    with app.app_context():
        assert db.session.scalar(db.select(Student)) is None and db.session.scalar(db.select(Job)) is None
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []
    assert not list(Path(app.config["INSTANCE_DIR"]).parent.rglob("evil*"))


def test_a_zip_folder_with_no_accepted_face_creates_no_student(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    person = faces94_people(DATASETS, 1)[0]
    wall = cv2.imencode(".jpg", np.full((240, 240, 3), (40, 160, 40), np.uint8))[1].tobytes()
    entries = {f"class/Real/{p.name}": p.read_bytes() for p in images_of(person, 2)}
    entries.update({"class/Wall/a.jpg": wall, "class/Notes/b.jpg": b"not an image"})
    page = _post_zip(client, course_id, zip_bytes(entries)).data.decode()
    jobs.run_pending(app)
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        students = [s.name for s in db.session.scalars(db.select(Student))]
    assert students == ["Real"], page
    assert job.message == ("Kept 2 face images for 1 student (1 new); 2 photos rejected; "
                           "2 folders with no usable face created no student.")
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []


def test_a_bulk_job_that_fails_halfway_says_exactly_what_it_kept(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    first, second = faces94_people(DATASETS, 2)
    entries = {f"class/A/{p.name}": p.read_bytes() for p in images_of(first, 2)}
    entries.update({f"class/B/{p.name}": p.read_bytes() for p in images_of(second, 2)})
    # Fault: student B (id 2) cannot get a dataset folder, because a file already sits at that path.
    dataset = Path(app.config["DATASET_DIR"])
    dataset.mkdir(parents=True, exist_ok=True)
    (dataset / "2").write_text("in the way")
    _post_zip(client, course_id, zip_bytes(entries))
    jobs.run_pending(app)
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        students = {s.name: len(s.samples) for s in db.session.scalars(db.select(Student))}
    assert job.status == "failed"
    assert "Kept 2 face images for 1 student (1 new)" in job.message and "half-saved" not in job.message
    assert students == {"A": 2}  # B, with nothing kept, is not left behind as an empty student
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []


def test_unpacked_bulk_folders_of_a_crashed_process_are_swept_at_start(tmp_path):
    uploads = tmp_path / "uploads"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name, owner in [("bulk_crashed", dead.stdout.strip()), ("bulk_other_server", str(live.pid)),
                            ("bulk_ours_before_restart", str(os.getpid()))]:
            (uploads / name / "101").mkdir(parents=True)
            (uploads / name / "101" / "face.jpg").write_bytes(b"a student's face")
            (uploads / name / ".owner").write_text(owner)
        create_app(Config, test_config(tmp_path))
        assert sorted(p.name for p in uploads.iterdir()) == ["bulk_other_server"]
    finally:
        live.kill()
        live.wait()
