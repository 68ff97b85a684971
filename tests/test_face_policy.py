"""The face policy on real photos: the subject is accepted, comparable faces refused, duplicates and look-alikes caught."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import db, jobs
from app.models import Course, FaceSample, Student
from app.pipeline import new_detector
from app.vision import face_policy
from app.vision.preprocess import face_chip
from app.vision.types import FaceBox
from conftest import DATASETS, needs_datasets, needs_detector
from helpers_web import course_of, faces94_people, images_of, new_student, seed_student_chips, upload_photos

pytestmark = [needs_datasets, needs_detector]
LFW = DATASETS / "lfw10"


def test_a_tile_box_on_the_chin_is_the_same_face_and_a_dominant_face_is_the_subject():
    face = FaceBox(79, 58, 171, 191, 0.99)
    chin = FaceBox(139, 140, 215, 225, 0.7)  # the phantom the 2x2 tile pass reports (FACTS)
    assert face_policy.distinct_faces([chin, face]) == [face]
    bystander = FaceBox(2, 27, 60, 100, 0.9)  # smaller, at the edge
    assert face_policy.subject_of(face_policy.distinct_faces([face, bystander]), (250, 250)) == face
    twin = FaceBox(180, 60, 260, 180, 0.95)  # as large as the first: a group, no single subject
    assert face_policy.subject_of(face_policy.distinct_faces([face, twin]), (250, 300)) is None


@pytest.fixture
def student(client, auth, app) -> int:
    return new_student(client, auth, app)


_upload = upload_photos


def _chips(app, student_id: int) -> list[np.ndarray]:
    folder = Path(app.config["DATASET_DIR"]) / str(student_id)
    return [cv2.imread(str(p)) for p in sorted(folder.glob("*.png"))]


def test_an_lfw_portrait_with_a_bystander_is_accepted_with_the_subject(client, app, student):
    path = LFW / "Kofi_Annan" / "Kofi_Annan_0007.jpg"  # a photographer's face at the left edge
    image = cv2.imread(str(path))
    detector = new_detector(app.config)
    faces = face_policy.distinct_faces(detector.detect_photo(image))
    assert len(faces) == 2  # the bystander is really seen...
    page = _upload(client, student, [(path.read_bytes(), path.name)]).data.decode()
    assert "Added 1 face image" in page  # ...and the photo is still accepted
    subject = face_policy.subject_of(faces, image.shape)
    assert subject.x1 > 60  # Annan, right of the bystander
    stored = _chips(app, student)
    assert len(stored) == 1
    assert np.abs(stored[0].astype(int) - face_chip(image, subject).astype(int)).mean() < 3  # PNG round trip


def test_a_group_photo_is_refused_and_shown_with_its_boxes(client, app, student):
    path = DATASETS / "detect" / "011_3.jpg"
    page = _upload(client, student, [(path.read_bytes(), "group.jpg")]).data.decode()
    assert "group.jpg: rejected, more than one face (3 found)" in page
    assert "Photos not added" in page
    uri = re.search(r'src="data:image/jpeg;base64,([^"]+)"', page)
    assert uri is not None
    thumb = cv2.imdecode(np.frombuffer(base64.b64decode(uri.group(1)), np.uint8), cv2.IMREAD_COLOR)
    assert max(thumb.shape[:2]) <= 240
    b, g, r = (thumb[..., i].astype(int) for i in range(3))
    assert ((r > 180) & (g < 90) & (b < 90)).sum() > 100  # the other faces, boxed in red
    assert ((g > 160) & (r < 90) & (b < 90)).sum() > 50  # the largest, in green
    assert _chips(app, student) == []


def test_the_same_photo_twice_is_refused_once(client, app, student):
    person = faces94_people(DATASETS, 1)[0]
    first, second = images_of(person, 2)
    page = _upload(client, student, [(first.read_bytes(), "a.jpg"), (first.read_bytes(), "copy.jpg"),
                                     (second.read_bytes(), "b.jpg")]).data.decode()
    assert "Added 2 face images" in page and "copy.jpg: rejected, the same file as a.jpg" in page
    # Uploaded again later (from another folder, under another name): the stored face matches.
    page = _upload(client, student, [(first.read_bytes(), "a-again.jpg")]).data.decode()
    assert "a-again.jpg: rejected, the same face image is already enrolled" in page
    assert len(_chips(app, student)) == 2


def test_a_photo_of_another_student_is_flagged_and_kept_out_of_training(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    detector = new_detector(app.config)
    people = faces94_people(DATASETS, 4)
    ids = []
    for i, person in enumerate(people):
        images = [cv2.imread(str(p)) for p in images_of(person, 8)]
        chips = [face_chip(img, face_policy.judge(img, detector.detect_photo(img)).box) for img in images]
        ids.append(seed_student_chips(app, course_id, str(i), chips))
    client.post(f"/courses/{course_id}/train")
    assert jobs.run_pending(app) == 1
    with app.app_context():
        assert db.session.get(Course, course_id).recognizer_version == 1
    photo_of_b = images_of(people[1], 20)[15]  # not among B's enrolled photos
    page = _upload(client, ids[0], [(photo_of_b.read_bytes(), "b.jpg")]).data.decode()
    assert "look like another student" in page
    with app.app_context():
        flagged = db.session.scalar(db.select(FaceSample).where(FaceSample.student_id == ids[0],
                                                                FaceSample.looks_like_id.is_not(None)))
        assert flagged is not None and flagged.looks_like_id == ids[1]
    page = client.get(f"/students/{ids[0]}").data.decode()
    assert "Looks like Student 1: not used for training until you confirm." in page
    client.post(f"/courses/{course_id}/train")
    jobs.run_pending(app)
    with app.app_context():
        assert db.session.get(Course, course_id).recognizer_summary["n_images"] == 32  # the flagged face left out
    client.post(f"/students/{ids[0]}/faces/{flagged.id}/confirm")
    with app.app_context():
        assert db.session.get(FaceSample, flagged.id).looks_like_id is None
    # An own new photo is not flagged.
    page = _upload(client, ids[2], [(images_of(people[2], 20)[15].read_bytes(), "c.jpg")]).data.decode()
    flashes = re.findall(r'class="flash[^"]*"[^>]*>([^<]+)', page)
    assert "Added 1 face image" in page and "look like another student" not in page, flashes
