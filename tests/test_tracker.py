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


def test_unknown_after_n_unknown_frames_then_rechecked_every_recheck_seconds():
    tr = Tracker(confirm_frames=3, unknown_frames=4, recheck_seconds=0.25)
    (t,) = tr.update([box(0)], 0.0)
    for i in range(3):
        tr.update([box(0)], i * 0.1)
        assert tr.vote(t, UNSURE, i * 0.1) is None
    tr.update([box(0)], 0.3)
    decision = tr.vote(t, UNSURE, 0.3)
    assert decision.state == UNKNOWN and decision.label is None and t.state == UNKNOWN
    tr.update([box(0)], 0.4)
    assert tr.vote(t, UNSURE, 0.4) is None  # one alert per track
    tr.update([box(0)], 0.5)
    assert not tr.wants_recognition(t)
    tr.update([box(0)], 0.7)
    assert tr.wants_recognition(t)


def test_only_judgeable_faces_decide():
    tr = Tracker(confirm_frames=3, unknown_frames=3)
    a, b = tr.update([box(0), box(300)], 0.0)
    for i in range(8):  # a small blurry bystander: evidence of neither a stranger nor a student
        assert tr.vote(a, UNSURE, i * 0.1, judgeable=False) is None
        assert tr.vote(b, known(4), i * 0.1, judgeable=False) is None
    assert a.state == PENDING and b.state == PENDING
    assert tr.vote(b, known(4), 0.8) is None and tr.vote(b, known(4), 0.9) is None
    assert tr.vote(b, known(4), 1.0).label == 4  # three judgeable frames


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


def vec(seed: int, d: int = 64):
    import numpy as np

    return np.random.default_rng(seed).normal(size=d).astype("float32")


def test_decided_track_is_rechecked_and_a_different_face_splits_it():
    tr = Tracker(confirm_frames=2, recheck_seconds=0.3, same_face=0.8)
    (t,) = tr.update([box(0)], 0.0)
    tr.vote(t, known(1), 0.0, feature=vec(1))
    assert tr.vote(t, known(1), 0.03, feature=vec(1) + 0.05).label == 1
    (t2,) = tr.update([box(2)], 0.1)
    assert t2 is t and not tr.wants_recognition(t)
    (t3,) = tr.update([box(2)], 0.4)
    assert tr.wants_recognition(t3)  # every recheck_seconds, known or not
    # Somebody else now stands in the same spot: their chip is unlike the track's own chips.
    assert tr.vote(t3, known(2), 0.4, feature=vec(2)) is None
    (fresh,) = tr.update([box(2)], 0.43)
    assert fresh.id != t.id and fresh.state == PENDING and fresh.first_seen == 0.4 and tr.splits == 1
    decision = tr.vote(fresh, known(2), 0.43, feature=vec(2))
    assert decision is not None and decision.label == 2 and decision.track_id == fresh.id


def test_recognizer_naming_another_student_twice_splits_a_known_track():
    tr = Tracker(confirm_frames=2, split_after=2)
    (t,) = tr.update([box(0)], 0.0)
    tr.vote(t, known(1), 0.0)
    tr.vote(t, known(1), 0.1)
    assert tr.vote(t, known(2), 0.4) is None and t.id in tr.tracks  # one disagreement: not yet
    tr.vote(t, known(2), 0.7)
    assert t.id not in tr.tracks and tr.splits == 1


def test_box_jump_or_detection_gap_asks_for_recognition_at_once():
    tr = Tracker(confirm_frames=1, recheck_seconds=10.0, gap_seconds=0.2)
    (t,) = tr.update([box(0)], 0.0)
    tr.vote(t, known(1), 0.0)
    tr.update([box(3)], 0.05)
    assert not tr.wants_recognition(t)
    tr.update([box(3, size=140)], 0.1)  # much bigger: someone stepped closer
    assert tr.wants_recognition(t)
    tr.vote(t, known(1), 0.1)
    tr.update([box(3, size=140)], 0.5)  # not detected for 0.4 s
    assert tr.wants_recognition(t)


def test_flickering_track_marks_nobody_until_the_vote_is_clear():
    tr = Tracker(confirm_frames=3, window_seconds=2.0)
    (t,) = tr.update([box(0)], 0.0)
    for i, label in enumerate([1, 2, 1, 2, 1, 2, 1]):
        assert tr.vote(t, known(label), i * 0.1) is None, i
    assert t.state == PENDING
    decisions = [tr.vote(t, known(1), 0.7 + i * 0.1) for i in range(8)]
    assert [d.label for d in decisions if d] == [1]


def test_a_mark_won_against_other_students_votes_is_flagged_for_review():
    tr = Tracker(confirm_frames=3)
    (t,) = tr.update([box(0)], 0.0)
    decisions = [tr.vote(t, known(label), 0.1 * i) for i, label in enumerate((5, 6, 5, 5))]
    decision = decisions[-1]
    assert decisions[:-1] == [None, None, None]
    assert decision.label == 5 and decision.review_reason == "flickering track: 1 of 4 frames named another student"
    (clean,) = tr.update([box(400)], 1.0)
    assert [tr.vote(clean, known(8), 1.0 + 0.1 * i) for i in range(3)][-1].review_reason is None


def test_only_votes_clearly_under_the_threshold_report_a_stranger():
    # threshold 0.6, margin 0.15 of the band to 1.0 (0.06): a student rejected at 0.57-0.59 is no stranger.
    tr = Tracker(confirm_frames=3, unknown_frames=3, unknown_margin=0.15)
    a, b = tr.update([box(0), box(300)], 0.0)
    for i in range(10):
        assert tr.vote(a, Prediction(None, 0.57 + 0.002 * i, 1), i * 0.1, threshold=0.6) is None
    assert a.state == PENDING
    decisions = [tr.vote(b, Prediction(None, 0.50, 2), i * 0.1, threshold=0.6) for i in range(3)]
    assert decisions[:2] == [None, None] and decisions[2].state == UNKNOWN


def test_narrow_rejections_hold_back_a_stranger_call_until_clear_votes_are_the_majority():
    tr = Tracker(unknown_frames=2, unknown_margin=0.15, window_seconds=0.5)
    (t,) = tr.update([box(0)], 0.0)
    for i in range(3):
        tr.vote(t, Prediction(None, 0.58, 1), i * 0.1, threshold=0.6)
    assert tr.vote(t, Prediction(None, 0.40, 1), 0.3, threshold=0.6) is None  # 1 clear of 4
    assert tr.vote(t, Prediction(None, 0.40, 1), 0.4, threshold=0.6) is None  # 2 of 5: no majority
    # Once the narrow votes leave the window, the clear ones are the majority (5 of 6 at 0.7 s).
    decisions = [tr.vote(t, Prediction(None, 0.40, 1), 0.5 + 0.1 * i, threshold=0.6) for i in range(3)]
    assert decisions[:2] == [None, None] and decisions[2].state == UNKNOWN


def test_unknown_rule_by_feature_kind():
    from app.vision.tracker import UNKNOWN_RULES, unknown_rule

    dlib_margin, dlib_votes = UNKNOWN_RULES["dlib"]
    assert unknown_rule("dlib", 5) == {"unknown_margin": dlib_margin, "unknown_frames": min(dlib_votes, 5)}
    assert unknown_rule("dlib", 2)["unknown_frames"] == 2  # a configured smaller number still wins
    assert unknown_rule("pixels", 5)["unknown_frames"] == 5
    assert unknown_rule("other", 4) == {"unknown_margin": 0.0, "unknown_frames": 4}


def test_face_not_judgeable_waits_for_the_recheck_instead_of_every_frame():
    tr = Tracker(recheck_seconds=0.25)
    (t,) = tr.update([box(0)], 0.0)
    assert tr.wants_recognition(t)
    tr.vote(t, UNSURE, 0.0, judgeable=False)
    tr.update([box(0)], 0.1)
    assert not tr.wants_recognition(t)  # a bystander's small blurry face takes no embedding per frame
    tr.update([box(0)], 0.3)
    assert tr.wants_recognition(t)
    tr.vote(t, UNSURE, 0.3, judgeable=True)
    tr.update([box(0)], 0.35)
    assert tr.wants_recognition(t)  # judgeable and undecided: every detection again


def test_the_margin_is_a_share_of_the_band_above_the_threshold():
    # A recognizer calibrated to 0.99 (6 ORL students, pixels): strangers at 0.975-0.985 are clearly
    # under it; a fixed 0.05 would have called none of them unknown.
    tr = Tracker(unknown_frames=3, unknown_margin=0.15)
    (t,) = tr.update([box(0)], 0.0)
    decisions = [tr.vote(t, Prediction(None, 0.975 + 0.005 * i, 1), 0.1 * i, threshold=0.99) for i in range(3)]
    assert decisions[2] is not None and decisions[2].state == UNKNOWN
