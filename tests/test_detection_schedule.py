"""The detection schedule: regions of a cycle, and small faces found by one tile that the whole frame misses."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector

from app.vision.detection_schedule import DetectionSchedule
from app.vision.detector import FaceDetector
from app.vision.types import FaceBox


def test_classroom_cycle_is_the_whole_frame_then_tiles_that_hold_every_small_face_whole():
    schedule = DetectionSchedule("classroom")
    regions = schedule.regions((720, 1280, 3))
    assert regions[0] is None and len(regions) == schedule.cycle_length((720, 1280, 3)) == 5
    tiles = regions[1:]
    assert all(w < 1280 and h < 720 for _, _, w, h in tiles)
    # Any face up to 100 px (the tiles' vertical overlap), anywhere, lies whole inside a tile; larger ones
    # are within the whole-frame pass's reach (>= ~66 px at 720p).
    rng = np.random.default_rng(0)
    for _ in range(500):
        size = int(rng.integers(30, 101))
        x, y = int(rng.integers(0, 1280 - size)), int(rng.integers(0, 720 - size))
        assert any(tx <= x and ty <= y and x + size <= tx + tw and y + size <= ty + th
                   for tx, ty, tw, th in tiles), (x, y, size)


def test_doorway_looks_at_the_whole_frame_every_time_and_unknown_views_are_refused():
    assert DetectionSchedule("doorway").regions((480, 640, 3)) == [None]
    with pytest.raises(ValueError, match="unknown camera view"):
        DetectionSchedule("stadium")


@pytest.fixture(scope="module")
def small_face_frame():
    """A 1280x720 frame with one ~42 px wide faces94 face in the lower right quarter."""
    image = cv2.imread(str(DATASETS / "faces94" / "anpage" / "anpage.1.jpg"))
    small = cv2.resize(image, (int(image.shape[1] * 0.36), int(image.shape[0] * 0.36)), interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 150, np.uint8)
    frame[500:500 + small.shape[0], 1000:1000 + small.shape[1]] = small
    return frame


@needs_datasets
@needs_detector
def test_a_small_face_is_found_by_its_tile_and_missed_by_the_whole_frame_pass(small_face_frame):
    det = FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")
    schedule = DetectionSchedule("classroom")
    assert det.detect(small_face_frame) == []  # below the 300x300 blob's reach at 720p (FACTS: ~66 px)
    found = {k: schedule.detect(det, small_face_frame, k) for k in range(5)}
    hits = [k for k, boxes in found.items() if boxes]
    assert 4 in hits and 0 not in hits  # the bottom-right tile, not the whole-frame pass
    box = found[4][0]
    assert 1000 <= box.x1 < box.x2 <= 1090 and 500 <= box.y1 < box.y2 <= 600
    assert 30 <= box.width <= 50


@needs_datasets
@needs_detector
def test_a_face_cut_by_an_inner_tile_edge_is_left_to_the_neighbouring_tile():
    det = FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")
    image = cv2.imread(str(DATASETS / "faces94" / "anpage" / "anpage.1.jpg"))
    frame = np.full((720, 1280, 3), 150, np.uint8)
    frame[300:500, 560:740] = image  # straddles x = 640
    whole = det.detect_region(frame, (0, 0, 1280, 720))
    left = det.detect_region(frame, (0, 0, 640, 720))
    assert whole and all(b.x2 < 640 for b in left)  # a box ending at the region's inner edge is dropped
    assert all(isinstance(b, FaceBox) for b in whole)


@needs_datasets
@needs_detector
def test_a_small_face_keeps_one_track_through_the_rotation_and_expires_once_its_tile_finds_it_gone(small_face_frame):
    from app.vision.live_detection import LiveDetection
    from app.vision.tracker import Tracker

    det = FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")
    live, tracker = LiveDetection("classroom", detect_every=1), Tracker()
    ids = set()
    # Two cycles, 0.5 s apart (a loaded machine): only the bottom-right tile sees the face, and a box not
    # carried through the whole-frame pass would be 1 s old, past the tracker's 0.7 s, at the next tile.
    for k in range(10):
        live.step(det, small_face_frame, 0.5 * k, tracker)
        ids |= set(tracker.tracks)
        if k >= 4:
            assert len(tracker.tracks) == 1, k  # carried by the whole-frame pass and the other tiles
    assert len(ids) == 1
    empty = np.full_like(small_face_frame, 150)
    for k in range(10, 20):
        live.step(det, empty, 0.5 * k, tracker)
    assert tracker.tracks == {}  # its tile looked, found nobody, and the box was no longer carried


@needs_datasets
@needs_detector
def test_a_tiles_box_on_the_chin_and_collar_is_not_a_second_face_live():
    # One portrait, one person: the tiles also report a box on his chin and collar. The live loop counts
    # faces by face_policy's rule (as enrollment does), so it tracks one face, not two.
    detector = FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")
    image = cv2.imread(str(DATASETS / "lfw10" / "Alejandro_Toledo" / "Alejandro_Toledo_0007.jpg"))
    schedule = DetectionSchedule("all-tiles")
    assert len(schedule._boxes(detector, image, 0)) == 2  # the detector's raw answer: face + chin/collar
    (face,) = schedule.detect(detector, image, 0)
    assert face.height > 100 and face.y1 < 80  # the whole face kept, not the collar box
