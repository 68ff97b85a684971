"""Tracker: IoU association, N agreeing frames to confirm, unknown after N unknown frames."""
from __future__ import annotations

from app.vision.tracker import KNOWN, PENDING, UNKNOWN, Tracker
from app.vision.types import FaceBox, Prediction


def box(x: int, y: int = 50, size: int = 100) -> FaceBox:
    return FaceBox(x, y, x + size, y + size, 0.9)


def known(label: int, score: float = 0.9) -> Prediction:
    return Prediction(label, score, label)


UNSURE = Prediction(None, 0.2, 7)


def test_boxes_keep_their_track_as_they_move_and_new_faces_get_new_tracks():
    tr = Tracker()
    a, b = tr.update([box(0), box(300)], 0.0)
    a2, b2 = tr.update([box(310), box(8)], 0.1)  # order swapped, both moved a little
    assert (b2.id, a2.id) == (a.id, b.id)
    (c,) = tr.update([box(500, 300)], 0.2)
    assert c.id not in (a.id, b.id)


def test_tracks_expire_after_max_age():
    tr = Tracker(max_age_seconds=0.5)
    (a,) = tr.update([box(0)], 0.0)
    tr.update([], 0.3)
    assert a.id in tr.tracks
    (b,) = tr.update([box(0)], 1.0)
    assert b.id != a.id and a.id not in tr.tracks


def test_confirmed_only_after_n_agreeing_frames_and_only_once():
    tr = Tracker(confirm_frames=3)
    (t,) = tr.update([box(0)], 0.0)
    assert tr.vote(t, known(5), 0.0) is None
    assert tr.vote(t, known(6), 0.1) is None  # a disagreeing frame does not count
    assert tr.vote(t, known(5), 0.2) is None
    decision = tr.vote(t, known(5, 0.8), 0.3)
    assert decision is not None and decision.state == KNOWN and decision.label == 5
    assert decision.first_seen == 0.0 and t.state == KNOWN
    assert not tr.wants_recognition(t)
    assert tr.vote(t, known(5), 0.4) is None  # never a second decision


def test_votes_outside_the_window_do_not_count():
    tr = Tracker(confirm_frames=3, window_seconds=1.0)
    (t,) = tr.update([box(0)], 0.0)
    tr.vote(t, known(5), 0.0)
    tr.vote(t, known(5), 0.8)
    assert tr.vote(t, known(5), 1.6) is None  # the first vote fell out of the window
    assert tr.vote(t, known(5), 1.7).label == 5


def test_unknown_after_n_unknown_frames_then_rechecked_rarely():
    tr = Tracker(confirm_frames=3, unknown_frames=4, unknown_recheck_every=3)
    (t,) = tr.update([box(0)], 0.0)
    for i in range(3):
        assert tr.vote(t, UNSURE, i * 0.1) is None
    decision = tr.vote(t, UNSURE, 0.3)
    assert decision.state == UNKNOWN and decision.label is None and t.state == UNKNOWN
    assert tr.vote(t, UNSURE, 0.4) is None  # one alert per track
    assert not tr.wants_recognition(t)
    for k in range(3):
        tr.update([box(0)], 0.5 + k * 0.1)
    assert tr.wants_recognition(t)


def test_mostly_known_face_is_not_called_unknown():
    tr = Tracker(confirm_frames=5, unknown_frames=2)
    (t,) = tr.update([box(0)], 0.0)
    tr.vote(t, known(3), 0.0)
    tr.vote(t, known(3), 0.1)
    assert tr.vote(t, UNSURE, 0.2) is None
    assert tr.vote(t, UNSURE, 0.3) is None  # 2 unknown vs 2 known: not a majority
    assert t.state == PENDING


def test_snapshot_is_the_best_scoring_chip():
    import numpy as np

    tr = Tracker(confirm_frames=2)
    (t,) = tr.update([box(0)], 0.0)
    tr.vote(t, known(1, 0.95), 0.0, np.full((2, 2, 3), 1, np.uint8))
    decision = tr.vote(t, known(1, 0.7), 0.1, np.full((2, 2, 3), 2, np.uint8))
    assert int(decision.snapshot[0, 0, 0]) == 1
