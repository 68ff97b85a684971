"""Promise 11: hostile or unlucky input gets a clear answer, never a 500: odd digits, huge CSV cells, a
damaged recognizer file, two adds of one roll number at once, a full or read-only data folder (no temp
files left behind), and five Train clicks at once (one job)."""
from __future__ import annotations

import io
import resource
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector
from served import Served
from sqlalchemy import func, select

from app import db
from app.models import Course, Job, Student
from app.students.service import StudentError, _commit_roll
from app.vision.recognizer import Recognizer, RecognizerError
from helpers_web import course_of, faces94_people, images_of, seed_student_chips


@pytest.fixture
def course_id(client, auth, app) -> int:
    auth.signup_and_login()
    return course_of(app)


@pytest.mark.parametrize("index", ["²", "１", "٣", "9" * 5000, "0\x00"])
def test_odd_webcam_numbers_are_refused_clearly(client, course_id, index):
    response = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "webcam",
                                                      "webcam_index": index}, follow_redirects=True)
    assert response.status_code == 200 and "whole number" in response.get_data(as_text=True)


def test_a_csv_cell_over_128_kb_is_refused_clearly(client, app, course_id):
    roster = "name,roll_number\n" + '"' + "A" * 200_000 + '",1\nBob,2\n'
    response = client.post(f"/courses/{course_id}/students/import",
                           data={"roster": (io.BytesIO(roster.encode()), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200 and "not a readable CSV roster" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Student.id))) == 0  # nothing half-imported


@pytest.mark.parametrize("sidecar", [b"{not json", b"[]", b"\xff\xfe\x00garbage", b"null", b""])
def test_a_damaged_recognizer_description_means_retrain(tmp_path, sidecar):
    (tmp_path / "v1.joblib").write_bytes(b"whatever")
    (tmp_path / "v1.json").write_bytes(sidecar)
    with pytest.raises(RecognizerError, match="retrain"):
        Recognizer.load(tmp_path / "v1.joblib")


def test_start_with_a_damaged_recognizer_says_retrain(client, app, course_id):
    folder = Path(app.config["RECOGNIZER_DIR"]) / f"course_{course_id}"
    folder.mkdir(parents=True)
    (folder / "v1.joblib").write_bytes(b"x")
    (folder / "v1.json").write_text("{garbage")
    with app.app_context():
        db.session.get(Course, course_id).recognizer_version = 1
        db.session.commit()
    response = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "webcam",
                                                      "webcam_index": "0"}, follow_redirects=True)
    assert response.status_code == 200 and "retrain" in response.get_data(as_text=True)


def test_the_same_roll_number_saved_twice_at_once_is_a_clear_message(app, course_id):
    """The race: both saves passed the "is it free?" check; the unique constraint decides, politely."""
    with app.app_context():
        db.session.add(Student(course_id=course_id, name="First", roll_number="42"))
        db.session.commit()
        db.session.add(Student(course_id=course_id, name="Second", roll_number="42"))  # past the check
        with pytest.raises(StudentError, match="already used"):
            _commit_roll("42")
        assert db.session.scalar(select(func.count(Student.id))) == 1


def test_parallel_adds_of_one_roll_number_on_a_real_server(app, client, course_id):
    cookie = f"session={client.get_cookie('session').value}"
    with Served(app) as served:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: served.request(
                "POST", f"/courses/{course_id}/students/new", {"name": f"Student {i}", "roll_number": "7"},
                headers={"Cookie": cookie}), range(8)))
    statuses = [status for status, *_ in results]
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    with app.app_context():
        assert db.session.scalar(select(func.count(Student.id))) == 1


def test_five_train_clicks_at_once_queue_one_job(app, client, course_id):
    cookie = f"session={client.get_cookie('session').value}"
    with Served(app) as served:
        with ThreadPoolExecutor(5) as pool:
            results = list(pool.map(lambda _: served.request("POST", f"/courses/{course_id}/train", {},
                                                             headers={"Cookie": cookie}), range(5)))
    assert [status for status, *_ in results] == [302] * 5
    with app.app_context():
        assert db.session.scalar(select(func.count(Job.id)).where(Job.kind == "train")) == 1
    assert len({headers["Location"] for _s, headers, *_ in results}) == 1  # all sent to the one job's page


def test_a_read_only_upload_folder_gives_a_clear_message(client, app, course_id, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file: nothing can be created under it (even as root)")
    app.config["UPLOAD_DIR"] = str(blocker / "uploads")
    with app.app_context():
        db.session.get(Course, course_id).recognizer_version = 1
        db.session.commit()
    response = client.post("/attendance/start", data={
        "course_id": course_id, "source_kind": "upload", "video_file": (io.BytesIO(b"\x00" * 100), "a.mp4")},
        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 507 and "full or read-only" in html and str(tmp_path) not in html


@needs_datasets
@needs_detector
@pytest.mark.parametrize("fault", ["disk full", "read-only"])
def test_training_on_a_full_or_read_only_disk_keeps_the_old_recognizer_and_no_temp_files(app, course_id, tmp_path,
                                                                                          fault):
    import cv2

    from app.courses.training import TrainingError, train_course
    from app.pipeline import new_detector
    from app.vision.preprocess import face_chip

    detector = new_detector({"DETECTOR_DIR": str(DETECTOR_DIR), "DETECTOR_PROTOTXT": "deploy.prototxt",
                             "DETECTOR_WEIGHTS": "res10_300x300_ssd_iter_140000.caffemodel",
                             "DETECTOR_MIN_CONFIDENCE": 0.5})
    for i, person in enumerate(faces94_people(DATASETS, 3)):
        images = [cv2.imread(str(p)) for p in images_of(person, 5)]
        seed_student_chips(app, course_id, str(i), [face_chip(im, detector.detect_padded(im)[0]) for im in images])
    if fault == "read-only":
        (tmp_path / "file").write_text("x")
        app.config["RECOGNIZER_DIR"] = str(tmp_path / "file" / "models")
    folder = Path(app.config["RECOGNIZER_DIR"]) / f"course_{course_id}"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    with app.app_context():
        try:
            if fault == "disk full":
                # Real fault injection: no file may grow past 256 KB, so the recognizer's write fails midway.
                resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))
            with pytest.raises(TrainingError, match="full or read-only"):
                train_course(course_id, app.config)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, previous)
        assert db.session.get(Course, course_id).recognizer_version is None
    leftovers = list(folder.glob("*")) if folder.is_dir() else []
    assert not [p for p in leftovers if p.name.endswith("tmp")], leftovers


@pytest.mark.parametrize("path", ["/courses/99999999999999999999999", "/students/99999999999999999999/edit",
                                  "/attendance/9999999999999999999999/status",
                                  "/reports/sessions/99999999999999999999999"])
def test_ids_beyond_64_bits_are_not_found(client, course_id, path):
    assert client.get(path).status_code == 404


def test_a_start_for_a_course_id_beyond_64_bits_is_refused(client, course_id):
    response = client.post("/attendance/start", data={"course_id": "9" * 30, "source_kind": "webcam",
                                                      "webcam_index": "0"}, follow_redirects=True)
    assert response.status_code == 200 and "not found" in response.get_data(as_text=True)
