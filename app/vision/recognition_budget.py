"""How many faces the live loop may recognise on a frame, and which ones first.

A dlib embedding costs 80-160 ms a face on this machine (bench/RESULTS.md), so recognising all 30
faces of a class on one frame would stall the loop for seconds: the live view freezes and tracks
expire. The budget gives each frame a fixed slice of time; a slice smaller than one face's cost is
saved up over frames (credit), so the *average* time per frame stays bounded however costly a face is.
"""
from __future__ import annotations

import math
from typing import Iterable

from .tracker import KNOWN, PENDING, Track

# Weight of the newest measurement in the running per-face cost.
COST_SMOOTHING = 0.3


class RecognitionBudget:
    """Credit-based time budget per frame for recognitions; costs are measured, not assumed."""

    def __init__(self, seconds_per_frame: float, max_saved_frames: int = 8) -> None:
        self.seconds_per_frame = max(0.0, seconds_per_frame)
        self.max_saved_frames = max(1, max_saved_frames)
        self.credit = 0.0
        self.cost_per_face: float | None = None  # seconds, running average

    def allowance(self) -> int:
        """Add this frame's slice; the number of faces that fit the credit (at least 1 while nothing is measured)."""
        cap = self.seconds_per_frame * self.max_saved_frames
        if self.cost_per_face is not None:
            cap = max(cap, self.cost_per_face)  # a face dearer than the cap must still fit some day
        self.credit = min(self.credit + self.seconds_per_frame, cap)
        if self.cost_per_face is None:
            return 1
        if self.cost_per_face <= 0:
            return 10**6
        return max(0, int(math.floor(self.credit / self.cost_per_face + 1e-9)))

    def spend(self, faces: int, seconds: float) -> None:
        """Record what `faces` recognitions really took."""
        if faces <= 0:
            return
        self.credit -= seconds
        per_face = seconds / faces
        if self.cost_per_face is None:
            self.cost_per_face = per_face
        else:
            self.cost_per_face += COST_SMOOTHING * (per_face - self.cost_per_face)


# An undecided track with this many recognitions and still no decision is ambiguous: it goes behind
# the others instead of taking every slot.
STUCK_RECOGNITIONS = 8


def priority(track: Track) -> tuple[int, int, float]:
    """Sort key: undecided tracks first; among them those already being voted on (most votes first, so a
    decision lands inside the tracker's vote window even when only a few faces a second can be embedded),
    then new ones (newest first), then ambiguous ones; undecided-unknown re-checks next, decided last."""
    if track.state == PENDING:
        n = track.recognitions
        if 0 < n < STUCK_RECOGNITIONS:
            return 0, -n, -track.first_seen
        return (1 if n == 0 else 2), 0, -track.first_seen
    return (4 if track.state == KNOWN else 3), track.recognitions, -track.first_seen


def pick(tracks: Iterable[Track], n: int) -> list[Track]:
    """The n tracks to recognise now, in priority order."""
    return sorted(tracks, key=priority)[:max(0, n)]
