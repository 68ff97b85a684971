"""The res10 SSD detector on real photos: face counts, boxes inside the frame, tight crops."""
import json

import cv2
import numpy as np
import pytest

from app.vision.detector import DetectorError, FaceDetector
from tests.conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector

pytestmark = [needs_detector]


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")


@pytest.fixture(scope="module")
def tiled_detector():
    return FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel",
                        tiles=2)


def _faces_json():
    return json.loads((DATASETS / "detect" / "faces.json").read_text())["images"]


def _count_errors(det):
    wrong = {}
    for name, info in _faces_json().items():
        image = cv2.imread(str(DATASETS / "detect" / name))
        found = det.detect(image)
        if len(found) != info["n_faces"]:
            wrong[name] = (len(found), info["n_faces"])
    return wrong


@needs_datasets
def test_tiles_find_the_small_faces_of_group_photos(tiled_detector):
    """With tiles every labelled photo gets the right face count (one spurious box allowed)."""
    wrong = _count_errors(tiled_detector)
    assert len(wrong) <= 1, wrong


@needs_datasets
def test_whole_frame_pass_misses_small_faces_only(detector):
    """The plain 300x300 pass is right on portraits and undercounts only groups (why tiles exist)."""
    wrong = _count_errors(detector)
    assert all(found < expected and expected >= 3 for found, expected in wrong.values()), wrong


@needs_datasets
def test_boxes_lie_inside_the_frame_and_cover_the_nose(detector):
    info = _faces_json()["000_5.jpg"]
    image = cv2.imread(str(DATASETS / "detect" / "000_5.jpg"))
    boxes = detector.detect(image)
    h, w = image.shape[:2]
    for b in boxes:
        assert 0 <= b.x1 < b.x2 <= w and 0 <= b.y1 < b.y2 <= h
        assert 0.5 <= b.confidence <= 1.0
    for nx, ny in info["nose_points_xy"]:
        assert any(b.x1 <= nx < b.x2 and b.y1 <= ny < b.y2 for b in boxes), (nx, ny)
    assert [b.confidence for b in boxes] == sorted((b.confidence for b in boxes), reverse=True)


@needs_datasets
def test_tight_crops_are_found_when_padded(detector):
    """ORL images are the face only: padding brings them back into the detector's range."""
    paths = [DATASETS / "orl" / f"s{i}" / "1.pgm" for i in range(1, 11)]
    for path in paths:
        image = cv2.imread(str(path))
        boxes = detector.detect_padded(image)
        assert boxes, path
        b = boxes[0]
        h, w = image.shape[:2]
        assert 0 <= b.x1 < b.x2 <= w and 0 <= b.y1 < b.y2 <= h
        assert b.area > 0.3 * w * h  # the face fills most of an ORL image


def test_blank_and_noise_frames_have_no_face(detector):
    rng = np.random.default_rng(0)
    assert detector.detect(np.full((480, 640, 3), 127, np.uint8)) == []
    assert detector.detect(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)) == []


@needs_datasets
def test_batch_gives_the_same_boxes_as_single_frames(detector):
    images = [cv2.imread(str(DATASETS / "detect" / n)) for n in ("000_5.jpg", "001_A.jpg", "017_0.jpg")]
    batch = detector.detect_batch(images)
    assert [len(b) for b in batch] == [len(detector.detect(i)) for i in images]


def test_grey_frames_are_accepted(detector, tiled_detector):
    assert detector.detect(np.zeros((100, 100), np.uint8)) == []
    assert tiled_detector.detect(np.zeros((100, 100), np.uint8)) == []


@needs_datasets
def test_photo_detection_falls_back_to_padding(tiled_detector):
    image = cv2.imread(str(DATASETS / "orl" / "s1" / "1.pgm"))
    assert len(tiled_detector.detect_photo(image)) == 1


def test_missing_weights_name_the_file(tmp_path):
    with pytest.raises(DetectorError, match="res10_300x300_ssd_iter_140000.caffemodel"):
        FaceDetector(DETECTOR_DIR / "deploy.prototxt", tmp_path / "res10_300x300_ssd_iter_140000.caffemodel")


def test_corrupt_weights_are_a_clear_error(tmp_path):
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(b"not a caffe model")
    with pytest.raises(DetectorError, match="cannot load detector"):
        FaceDetector(DETECTOR_DIR / "deploy.prototxt", bad)
