"""Stranger grouping by feature similarity and the judgeable-face gate (pure vision, no threads)."""
from __future__ import annotations

import cv2
import numpy as np

import sys

from conftest import BASE_DIR, DATASETS, needs_datasets, needs_detector

from app.vision.face_quality import unjudgeable_reason
from app.vision.strangers import Strangers
from app.vision.types import FaceBox

sys.path.insert(0, str(BASE_DIR / "bench"))


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


def test_in_a_seated_class_a_stranger_back_in_the_same_seat_is_the_same_stranger():
    # A 50-90 px face's features wander between tracks; in a classroom the seat says who it is. In a
    # doorway the same spot is the next person's, so the seat counts for nothing there.
    rng = np.random.default_rng(2)
    looks, looks_again, neighbour = rng.normal(size=128), rng.normal(size=128), rng.normal(size=128)
    seat, seat_moved, next_seat = FaceBox(100, 100, 160, 170, 0.9), FaceBox(104, 98, 166, 170, 0.9), \
        FaceBox(200, 100, 260, 170, 0.9)
    classroom = Strangers(same_person=0.9, same_seat=0.3)
    assert classroom.assign(looks, seat) == (1, True)
    assert classroom.assign(looks_again, seat_moved) == (1, False)  # unlike features, same seat
    assert classroom.assign(neighbour, next_seat) == (2, True)  # the next seat is someone else
    assert classroom.assign(looks_again, next_seat) == (2, False)  # seats follow their latest box
    doorway = Strangers(same_person=0.9)
    assert doorway.assign(looks, seat) == (1, True)
    assert doorway.assign(looks_again, seat_moved) == (2, True)


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


@needs_datasets
@needs_detector
def test_bystanders_blurred_48_px_face_is_too_blurry_and_a_doorway_face_is_judgeable():
    # The scenario bench's faces94 bystander: a 46-48 px box that INTER_AREA enlargement scored 85-151
    # for sharpness (its blocks look like edges), far above real faces; measured bilinearly it is 5-6.
    import scenarios
    from common import new_detector

    cast = scenarios.make_cast(DATASETS / "faces94", 6, 3, 8)
    scene = scenarios.doorway(cast, 0.5)
    detector = new_detector()
    frame = next(f for i, f in enumerate(scene.frames()) if i == 60)  # the second student in the doorway
    verdicts = {}
    for b in detector.detect(frame):
        who = scene.who(60 / scenarios.FPS, (b.x1, b.y1, b.x2, b.y2))
        verdicts[who.identity] = (min(b.width, b.height), unjudgeable_reason(frame, b))
    (bystander,) = [a.identity for a in scene.appearances if not a.judgeable]
    size, reason = verdicts[bystander]
    assert size >= 46 and reason == "too blurry", verdicts
    assert verdicts[cast.enrolled[1]][1] is None, verdicts
