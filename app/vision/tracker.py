"""Face tracks across frames (IoU) and the vote that turns several agreeing frames into one decision."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .types import FaceBox, Prediction

PENDING, KNOWN, UNKNOWN = "pending", "known", "unknown"


@dataclass
class Vote:
    """One recognition of a track: when, the label (None = unknown) and its score."""

    t: float
    label: int | None
    score: float


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
    snapshot: np.ndarray | None = None  # the chip of the best-scoring frame so far (192, 192, 3)
    snapshot_score: float = -1.0


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


class Tracker:
    """Greedy IoU tracker with per-track voting; pure Python, clock passed in (source seconds)."""

    def __init__(self, confirm_frames: int = 3, window_seconds: float = 2.0, unknown_frames: int = 5,
                 iou_threshold: float = 0.3, max_age_seconds: float = 0.7, unknown_recheck_every: int = 4) -> None:
        self.confirm_frames = max(1, confirm_frames)
        self.window_seconds = window_seconds
        self.unknown_frames = max(1, unknown_frames)
        self.iou_threshold = iou_threshold
        self.max_age_seconds = max_age_seconds
        self.unknown_recheck_every = max(1, unknown_recheck_every)
        self.tracks: dict[int, Track] = {}
        self._next_id = 1

    def update(self, boxes: list[FaceBox], t: float) -> list[Track]:
        """Match this frame's boxes to tracks (new tracks for the rest); one track per box, same order."""
        self._expire(t)
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
                track = Track(id=self._next_id, box=box, first_seen=t, last_seen=t)
                self.tracks[track.id] = track
                self._next_id += 1
            track.box, track.last_seen = box, t
            track.detections_since_recognition += 1
            result.append(track)
        return result

    def _expire(self, t: float) -> None:
        for tid in [tid for tid, tr in self.tracks.items() if t - tr.last_seen > self.max_age_seconds]:
            del self.tracks[tid]

    def wants_recognition(self, track: Track) -> bool:
        """Recognise pending tracks every detection, unknown ones now and then, known ones never again."""
        if track.state == KNOWN:
            return False
        if track.state == UNKNOWN:
            return track.detections_since_recognition >= self.unknown_recheck_every
        return True

    def vote(self, track: Track, prediction: Prediction, t: float, chip: np.ndarray | None = None) -> Decision | None:
        """Add one recognition; returns a Decision the first time the track is confirmed (or goes unknown)."""
        track.recognitions += 1
        track.detections_since_recognition = 0
        track.votes.append(Vote(t, prediction.label, prediction.score))
        while track.votes and t - track.votes[0].t > self.window_seconds:
            track.votes.popleft()
        if chip is not None and prediction.score > track.snapshot_score:
            track.snapshot, track.snapshot_score = chip, prediction.score
        counts: dict[int, list[float]] = {}
        unknown = 0
        for v in track.votes:
            if v.label is None:
                unknown += 1
            else:
                counts.setdefault(v.label, []).append(v.score)
        if counts and track.state != KNOWN:
            label, scores = max(counts.items(), key=lambda kv: len(kv[1]))
            # Agreeing frames must be the majority too, so two similar students never both win.
            if len(scores) >= self.confirm_frames and len(scores) > unknown:
                track.state, track.label, track.score = KNOWN, label, float(np.median(scores))
                return self._decision(track, t)
        most_known = max((len(s) for s in counts.values()), default=0)
        if track.state == PENDING and unknown >= self.unknown_frames and unknown > most_known:
            track.state = UNKNOWN
            track.score = float(np.median([v.score for v in track.votes if v.label is None]))
            return self._decision(track, t)
        return None

    @staticmethod
    def _decision(track: Track, t: float) -> Decision:
        return Decision(track.id, track.state, track.label, track.score, track.first_seen, t, track.snapshot)
