"""Stranger grouping by feature similarity and the judgeable-face gate (pure vision, no threads)."""
from __future__ import annotations

import cv2
import numpy as np

from app.vision.face_quality import unjudgeable_reason
from app.vision.strangers import Strangers
from app.vision.types import FaceBox


def test_tracks_of_one_stranger_share_a_number_and_a_second_stranger_gets_a_new_one():
    rng = np.random.default_rng(0)
    first, second = rng.normal(size=128), rng.normal(size=128)
    strangers = Strangers(same_person=0.9)
    assert strangers.assign(first) == (1, True)
    assert strangers.assign(first + rng.normal(scale=0.1, size=128)) == (1, False)  # came back
    assert strangers.assign(second) == (2, True)
    assert strangers.assign(None) == (3, True)  # no feature: cannot be matched, counts as new
    assert strangers.assign(second * 2 + 1) == (2, False)  # correlation ignores scale and offset
    assert len(strangers) == 3


def test_small_blurry_cut_or_dark_faces_are_not_judgeable():
    rng = np.random.default_rng(1)
    frame = np.full((480, 640, 3), 120, np.uint8)
    frame[100:300, 100:300] = rng.integers(0, 255, size=(200, 200, 3), dtype=np.uint8)  # sharp texture
    assert unjudgeable_reason(frame, FaceBox(120, 120, 280, 290, 0.9)) is None
    assert unjudgeable_reason(frame, FaceBox(120, 120, 160, 170, 0.9)) == "face too small"
    assert unjudgeable_reason(frame, FaceBox(0, 120, 150, 290, 0.9)) == "face cut by the frame edge"
    assert unjudgeable_reason(frame, FaceBox(120, 120, 280, 140 + 300, 0.9)) == "face turned away"
    blurred = cv2.GaussianBlur(frame, (0, 0), 6)
    blurred[100:300, 100:300] = cv2.GaussianBlur(np.full((200, 200, 3), 120, np.uint8), (0, 0), 6)
    assert unjudgeable_reason(blurred, FaceBox(120, 120, 280, 290, 0.9)) == "too blurry"
    dark = (frame // 12).astype(np.uint8)
    assert unjudgeable_reason(dark, FaceBox(120, 120, 280, 290, 0.9)) == "too dark"
