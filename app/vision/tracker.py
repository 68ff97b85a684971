"""Face tracks across frames (IoU), the vote that turns several agreeing frames into one decision,
and the re-checks that split a track when a different face takes its place."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .appearance import normalise, similarity
from .types import FaceBox, Prediction

PENDING, KNOWN, UNKNOWN = "pending", "known", "unknown"
APPEARANCE_MEMORY = 5  # the track's own latest feature vectors a new chip is compared with
# How clearly unknown a face must look before it is reported, by feature kind: how far under the
# recognizer's threshold an unknown vote must score, as a share of the band between the threshold and a
# perfect score (1.0), and the most such votes needed. A share, not a fixed amount, because the band
# depends on the calibration: measured on the scenario bench (bench/RESULTS.md, issue 10; every face
# judged), lfw10 thresholds were 0.69 (pixels) and 0.60 (dlib), and strangers' unknown votes scored
# 0.077+ (pixels) and 0.088+ (dlib) under them, while a student the pixel recognizer narrowly rejected
# (Chirac) scored 0.024 under to 0.007 over: 0.15 of the band (0.047 / 0.060) lies between. With 6 ORL
# students of 5 photos the pixel threshold is 0.989 and strangers score 0.001-0.016 under it (0.15 of the
# band: 0.0017). dlib strangers never came within 0.08 of it, so 3 clear votes (about what dlib embeds
# of one face in 1 s on 2 cores) are enough where pixels keep CAMERA_UNKNOWN_FRAMES.
UNKNOWN_RULES: dict[str, tuple[float, int]] = {"pixels": (0.15, 99), "dlib": (0.15, 3)}


def unknown_rule(features: str, unknown_frames: int) -> dict[str, float | int]:
    """Tracker keyword arguments for a feature kind: unknown_margin and unknown_frames."""
    margin, most = UNKNOWN_RULES.get(features, (0.0, unknown_frames))
    return {"unknown_margin": margin, "unknown_frames": min(most, unknown_frames)}


@dataclass
class Vote:
    """One recognition of a track: when, the label (None = unknown), its score, and a judgeable face."""

    t: float
    label: int | None
    score: float
    judgeable: bool = True
    clear_unknown: bool = False  # unknown, and scored clearly under the recognizer's threshold


@dataclass
class Track:
    """One face followed across frames; `state` moves pending -> known | unknown (unknown -> known allowed)."""

    id: int
    box: FaceBox
    first_seen: float
    last_seen: float
    votes: deque[Vote] = field(default_factory=deque)
    state: str = PENDING
    label: int | None = None
    score: float = 0.0
    recognitions: int = 0
    detections_since_recognition: int = 0
    last_recognition_t: float = float("-inf")
    changed: bool = False  # the box jumped or the face went undetected for a while: look again
    last_judgeable: bool = True  # the latest recognised chip was good enough to judge
    disagreements: int = 0  # re-checks in a row that named another student
    appearance: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=APPEARANCE_MEMORY))
    snapshot: np.ndarray | None = None  # the chip of the best-scoring frame so far (192, 192, 3)
    snapshot_score: float = -1.0
    face_shot: np.ndarray | None = None  # the judgeable chip the detector was surest of (for alerts)
    face_shot_confidence: float = -1.0


@dataclass(frozen=True)
class Decision:
    """What the tracker concluded about a track: a student (label) or an unknown person."""

    track_id: int
    state: str  # KNOWN | UNKNOWN
    label: int | None
    score: float
    first_seen: float
    t: float
    snapshot: Any
    box: FaceBox | None = None
    feature: np.ndarray | None = None  # mean of the track's recent unit feature vectors (d,)
    review_reason: str | None = None  # why a teacher should look at this decision (a flickering track)


class Tracker:
    """Greedy IoU tracker with per-track voting; pure Python, clock passed in (source seconds).

    A decided track keeps no name for free: it is recognised again every `recheck_seconds` and at
    once after a box/size jump or a detection gap; a chip unlike the track's own earlier chips
    (`same_face` similarity) or `split_after` re-checks naming another student split it, and the
    new face is voted on from scratch. A vote is clear only when the winner has `min_share` of it.
    """

    def __init__(self, confirm_frames: int = 3, window_seconds: float = 2.0, unknown_frames: int = 5,
                 iou_threshold: float = 0.3, max_age_seconds: float = 0.7, recheck_seconds: float = 0.25,
                 same_face: float | None = None, min_share: float = 0.67, gap_seconds: float = 0.2,
                 jump: float = 0.35, size_jump: float = 1.3, split_after: int = 2,
                 unknown_margin: float = 0.0) -> None:
        self.confirm_frames = max(1, confirm_frames)
        self.window_seconds = window_seconds
        self.unknown_frames = max(1, unknown_frames)
        self.iou_threshold = iou_threshold
        self.max_age_seconds = max_age_seconds
        self.recheck_seconds = recheck_seconds
        self.same_face = same_face
        self.min_share = min_share
        self.gap_seconds, self.jump, self.size_jump = gap_seconds, jump, size_jump
        self.split_after = max(1, split_after)
        self.unknown_margin = unknown_margin
        self.tracks: dict[int, Track] = {}
        self.splits = 0
        self.detections = 0  # boxes seen so far (all tracks)
        self._next_id = 1

    def update(self, boxes: list[FaceBox], t: float) -> list[Track]:
        """Match this frame's boxes to tracks (new tracks for the rest); one track per box, same order."""
        self._expire(t)
        self.detections += len(boxes)
        pairs = sorted(
            ((box.iou(track.box), bi, tid) for bi, box in enumerate(boxes) for tid, track in self.tracks.items()),
            reverse=True,
        )
        matched: dict[int, Track] = {}
        used: set[int] = set()
        for iou, bi, tid in pairs:
            if iou < self.iou_threshold:
                break
            if bi in matched or tid in used:
                continue
            matched[bi] = self.tracks[tid]
            used.add(tid)
        result = []
        for bi, box in enumerate(boxes):
            track = matched.get(bi)
            if track is None:
                track = self._new_track(box, t)
            elif self._face_moved(track, box, t):
                track.changed = True
            track.box, track.last_seen = box, t
            track.detections_since_recognition += 1
            result.append(track)
        return result

    def _new_track(self, box: FaceBox, t: float) -> Track:
        track = Track(id=self._next_id, box=box, first_seen=t, last_seen=t)
        self.tracks[track.id] = track
        self._next_id += 1
        return track

    def _face_moved(self, track: Track, box: FaceBox, t: float) -> bool:
        """A jump of the box centre or size, or a gap in detections: maybe another face now."""
        old = track.box
        size = max(1, old.width, old.height)
        dx = (box.x1 + box.x2 - old.x1 - old.x2) / 2
        dy = (box.y1 + box.y2 - old.y1 - old.y2) / 2
        ratio = max(1, box.width) / max(1, old.width)
        return (t - track.last_seen > self.gap_seconds or (dx * dx + dy * dy) ** 0.5 > self.jump * size
                or not 1 / self.size_jump <= ratio <= self.size_jump)

    def _expire(self, t: float) -> None:
        for tid in [tid for tid, tr in self.tracks.items() if t - tr.last_seen > self.max_age_seconds]:
            del self.tracks[tid]

    def wants_recognition(self, track: Track) -> bool:
        """Pending judgeable tracks every detection; others after a change, else every recheck_seconds."""
        # An undecided face that was not judgeable (small, blurry, cut) waits like a decided one: with
        # dlib a bystander recognised on every frame took half of the few embeddings a second there are.
        if track.changed or (track.state == PENDING and track.last_judgeable):
            return True
        return track.last_seen - track.last_recognition_t >= self.recheck_seconds

    def vote(self, track: Track, prediction: Prediction, t: float, chip: np.ndarray | None = None,
             feature: np.ndarray | None = None, judgeable: bool = True,
             threshold: float | None = None) -> Decision | None:
        """Add one recognition; returns a Decision when the (possibly split) track is confirmed or goes unknown.

        feature: the extractor's vector of this chip (d,); judgeable: the face is good enough to
        count as evidence (a vote on a too small, blurry or cut face counts for no decision);
        threshold: the recognizer's unknown threshold (an unknown vote counts towards a stranger only
        when its score is under it by unknown_margin x (1 - threshold); None: every unknown vote counts).
        """
        unit = normalise(feature) if feature is not None else None
        track = self._split_if_other_face(track, prediction, unit, t)
        track.recognitions += 1
        track.detections_since_recognition = 0
        track.last_recognition_t, track.changed, track.last_judgeable = t, False, judgeable
        if unit is not None:
            track.appearance.append(unit)
        clear = prediction.label is None and (
            threshold is None or prediction.score < threshold - self.unknown_margin * (1.0 - threshold))
        track.votes.append(Vote(t, prediction.label, prediction.score, judgeable, clear))
        while track.votes and t - track.votes[0].t > self.window_seconds:
            track.votes.popleft()
        if chip is not None and prediction.score > track.snapshot_score:
            track.snapshot, track.snapshot_score = chip, prediction.score
        if chip is not None and judgeable and track.box.confidence > track.face_shot_confidence:
            track.face_shot, track.face_shot_confidence = chip, track.box.confidence
        return self._decide(track, t)

    def _decide(self, track: Track, t: float) -> Decision | None:
        # Only judgeable faces are evidence either way: a small blurry bystander neither marks a
        # student (pixel features took one for a student they resembled) nor reports a stranger.
        votes = [v for v in track.votes if v.judgeable]
        counts: dict[int, list[float]] = {}
        for v in votes:
            if v.label is not None:
                counts.setdefault(v.label, []).append(v.score)
        if counts and track.state != KNOWN:
            label, scores = max(counts.items(), key=lambda kv: len(kv[1]))
            # A clear majority of the window: a track flickering between two students marks neither.
            if len(scores) >= self.confirm_frames and len(scores) >= self.min_share * len(votes):
                track.state, track.label, track.score = KNOWN, label, float(np.median(scores))
                # Won, but other students were named in the same window: worth the teacher's look.
                others = sum(len(v) for other, v in counts.items() if other != label)
                reason = f"flickering track: {others} of {len(votes)} frames named another student" if others else None
                return self._decision(track, t, track.snapshot, reason)
        # A stranger needs a clear majority of votes that are *clearly* unknown: a student the recognizer
        # narrowly rejects (scores just under the threshold) stays undecided instead of being reported.
        unknown = [v for v in votes if v.clear_unknown]
        if track.state == PENDING and len(unknown) >= self.unknown_frames and len(unknown) >= self.min_share * len(votes):
            track.state = UNKNOWN
            track.score = float(np.median([v.score for v in unknown]))
            return self._decision(track, t, track.face_shot if track.face_shot is not None else track.snapshot)
        return None

    def _split_if_other_face(self, track: Track, prediction: Prediction, unit: np.ndarray | None,
                             t: float) -> Track:
        """The same track, or a fresh one in its place when this chip shows somebody else."""
        other = False
        if unit is not None and track.appearance and self.same_face is not None:
            other = max(similarity(unit, seen) for seen in track.appearance) < self.same_face
        if track.state == KNOWN and prediction.label is not None:
            track.disagreements = track.disagreements + 1 if prediction.label != track.label else 0
            other = other or track.disagreements >= self.split_after
        if not other:
            return track
        self.splits += 1
        del self.tracks[track.id]
        fresh = self._new_track(track.box, t)
        fresh.last_seen = track.last_seen
        return fresh

    @staticmethod
    def _decision(track: Track, t: float, snapshot: Any, review_reason: str | None = None) -> Decision:
        feature = np.mean(track.appearance, axis=0) if track.appearance else None
        return Decision(track.id, track.state, track.label, track.score, track.first_seen, t, snapshot,
                        track.box, feature, review_reason)
