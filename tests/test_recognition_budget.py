"""The per-frame recognition budget and the order in which tracks are recognised."""
from __future__ import annotations

import numpy as np

from app.vision.live_view import draw_tracks, text_scale
from app.vision.recognition_budget import RecognitionBudget, pick
from app.vision.tracker import KNOWN, PENDING, UNKNOWN, Track
from app.vision.types import FaceBox


def test_first_frame_recognises_one_face_to_measure_the_cost():
    assert RecognitionBudget(0.025).allowance() == 1


def test_cheap_faces_fill_the_frame_slice():
    budget = RecognitionBudget(0.025)
    budget.allowance()
    budget.spend(1, 0.001)
    assert 20 <= budget.allowance() <= 50


def test_costly_faces_wait_for_saved_credit_so_the_average_time_per_frame_stays_bounded():
    budget = RecognitionBudget(0.025)
    budget.allowance()
    budget.spend(1, 0.16)  # one dlib embedding on this machine
    frames, faces = 200, 0
    for _ in range(frames):
        n = budget.allowance()
        assert 0 <= n <= 1
        if n:
            budget.spend(n, 0.16)
            faces += n
    # 200 frames x 25 ms = 5 s of budget: at most 31 faces of 160 ms; whole frames waste a little.
    assert 24 <= faces <= 31
    assert faces * 0.16 <= frames * 0.025 + 0.16


def _track(i: int, state: str, recognitions: int, first_seen: float) -> Track:
    tr = Track(id=i, box=FaceBox(0, 0, 50, 50, 0.9), first_seen=first_seen, last_seen=first_seen)
    tr.state, tr.recognitions = state, recognitions
    return tr


def test_undecided_tracks_first_those_half_voted_before_new_ones_decided_ones_last():
    tracks = [_track(1, KNOWN, 3, 0.0), _track(2, PENDING, 2, 1.0), _track(3, UNKNOWN, 5, 0.5),
              _track(4, PENDING, 0, 2.0), _track(5, PENDING, 0, 3.0), _track(6, PENDING, 1, 0.2),
              _track(7, PENDING, 20, 0.1)]
    # Half-voted (most votes first) so a decision lands within the vote window, then new (newest first),
    # then the ambiguous one, the unknown re-check, the decided one.
    assert [t.id for t in pick(tracks, 7)] == [2, 6, 5, 4, 7, 3, 1]
    assert [t.id for t in pick(tracks, 2)] == [2, 6]
    assert pick(tracks, 0) == []


def test_live_view_names_are_about_20_px_tall_at_720p_and_the_header_counts_faces():
    import cv2

    scale = text_scale(720)
    (_, h), _ = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    assert 18 <= h <= 24
    frame = np.full((720, 1280, 3), 128, np.uint8)
    tracks = [_track(1, KNOWN, 3, 0.0), _track(2, PENDING, 0, 0.0)]
    tracks[0].label = 7
    tracks[1].box = FaceBox(600, 400, 640, 440, 0.9)
    out = draw_tracks(frame, tracks, {7: "Ada"}, lambda tr: tr.box.width < 45)
    assert (frame == 128).all()  # the input frame is left alone
    assert (out[:40, :200] == 0).any() and (out[:40, :200] == 255).any()  # the black header with white text
    assert (out[395:445, 595:645] != 128).any()  # the small face's box is drawn


def test_faces_under_the_minimum_size_are_tracked_but_never_judged():
    from app.vision.features import get_extractor
    from app.vision.live_recognition import LiveRecognition
    from app.vision.tracker import Tracker

    tracker = Tracker()
    tracker.update([FaceBox(10, 10, 50, 50, 0.9)], 0.0)  # a 40 px face
    live = LiveRecognition(get_extractor("pixels"), budget_ms=25, min_face_px=70)
    frame = np.zeros((720, 1280, 3), np.uint8)
    assert live.step(frame, 0.0, tracker, 0.0, recognizer=None, blas=None) == []
    assert live.recognitions == 0 and live.too_small(next(iter(tracker.tracks.values())))


def test_the_minimum_face_size_follows_the_feature_kind_unless_set():
    from app.attendance.camera_service import PIXELS_MIN_FACE_PX, min_face_px

    assert min_face_px({"CAMERA_MIN_FACE_PX": -1}, "pixels") == PIXELS_MIN_FACE_PX
    assert min_face_px({"CAMERA_MIN_FACE_PX": -1}, "dlib") == 0
    assert min_face_px({"CAMERA_MIN_FACE_PX": 50}, "dlib") == 50
