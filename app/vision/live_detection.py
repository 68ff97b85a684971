"""The live loop's detection: on which frames it runs, which region it looks at, and the boxes carried between.

Detection is the loop's dearest step (res10 on a 1280x720 frame: ~35 ms quiet, FACTS.md). The loop
detects on every frame when that keeps up with the camera, else on every n-th frame (the tracker
holds the boxes in between). The classroom view looks at one region per detection in rotation
(detection_schedule.py); tracks of the regions not looked at are carried until theirs comes round.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .detection_schedule import DetectionSchedule
from .detector import FaceDetector
from .tracker import Track, Tracker
from .types import FaceBox

MAX_DETECT_EVERY = 4
# The tracker drops a track unseen for 0.7 s: a starved loop (5 fps under load, 1 detection in 4
# frames = 0.8 s) lost every track between two detections and no vote ever added up. Detect at least
# this often on the frames' clock, whatever the frame count says.
MAX_DETECT_GAP_SECONDS = 0.35


class LiveDetection:
    """Per-worker detection state: rate, rotation, carried tracks; `step` returns the tracks of this frame's boxes."""

    def __init__(self, view: str, detect_every: int = 0, source: Any = None) -> None:
        self.schedule = DetectionSchedule(view)
        self.fixed_every = detect_every  # 0 = adapt to the camera's frame rate
        self.source = source  # its fps is known once it is open
        self.detections = 0
        self.detect_cost = self.base_cost = 0.0  # seconds per frame with / without a detection (running averages)
        self._since_detect = 10**6
        self._last_t = float("-inf")  # frame time of the last detection
        self._cycle_times: list[float] = []  # times of the detections of the current schedule cycle
        self._detected_at: dict[int, float] = {}  # track id -> last time a detector box (not a carried one) matched it

    def due(self, t: float) -> bool:
        """Whether the frame at time t gets a detection: every frame if the loop keeps up, else every n-th."""
        due = self._since_detect + 1 >= self.every() or t - self._last_t >= MAX_DETECT_GAP_SECONDS
        self._since_detect = 0 if due else self._since_detect + 1
        if due:
            self._last_t = t
        return due

    def every(self) -> int:
        """Smallest n with detect + (n-1) plain frames fitting in n frame intervals of the source."""
        if self.fixed_every:
            return self.fixed_every
        # 15% headroom: the costs are averages and the machine is shared.
        budget = 0.85 / max(1.0, float(getattr(self.source, "fps", 30.0) or 30.0))
        if self.detect_cost <= budget:
            return 1
        spare = budget - self.base_cost
        # Past 1 in 4 the loop cannot keep up anyway (a starved CPU): then detections, which mark
        # students, matter more than frames, which the source drops.
        if spare <= 0:
            return MAX_DETECT_EVERY
        return max(1, min(MAX_DETECT_EVERY, math.ceil((self.detect_cost - self.base_cost) / spare)))

    def note_cost(self, detected: bool, seconds: float) -> None:
        """Record what a frame cost, with or without its detection."""
        if detected:
            self.detect_cost = _ema(self.detect_cost, seconds)
        else:
            self.base_cost = _ema(self.base_cost, seconds)

    def fresh_since(self, t: float) -> float:
        """Tracks seen since this time have a usable box now (the start of the last full detection cycle)."""
        return self._cycle_times[0] if self._cycle_times else t

    def step(self, detector: FaceDetector, frame: np.ndarray, t: float, tracker: Tracker) -> list[Track]:
        """Detect this detection's region, carry the other tracks, and update the tracker; frame (H, W, 3)."""
        k = self.detections
        boxes = self.schedule.detect(detector, frame, k)
        carried = self._carried(self.schedule.region(frame.shape, k), boxes, frame.shape, t, tracker)
        tracks = tracker.update(boxes + [tr.box for tr in carried], t)
        self._detected_at = {tr.id: self._detected_at[tr.id] for tr in tracks if tr.id in self._detected_at}
        self._detected_at.update((tr.id, t) for tr in tracks[:len(boxes)])
        self.detections += 1
        cycle = self.schedule.cycle_length(frame.shape)
        self._cycle_times = (self._cycle_times + [t])[-cycle:]
        return tracks

    def _carried(self, region: tuple[int, int, int, int] | None, boxes: list[FaceBox], shape: tuple[int, ...],
                 t: float, tracker: Tracker) -> list[Track]:
        """Tracks this detection cannot vouch for whose own region found them within the last cycle.

        The tracker drops a track unseen for max_age (0.7 s), less than a rotation takes when detection
        runs on every 4th frame; carrying their boxes keeps a seated class's tracks (and votes) alive
        until their own region is looked at again. For a tile: the tracks outside it. For the whole
        frame (its blob misses faces under ~66 px at 720p): the tracks no box of this pass matched.
        A face that left is not found in its own tile, is not carried there, and expires.
        """
        if self.schedule.cycle_length(shape) == 1:
            return []
        full_cycle = len(self._cycle_times) >= self.schedule.cycle_length(shape)
        since = self._cycle_times[0] if full_cycle else float("-inf")
        alive = [tr for tr in tracker.tracks.values()
                 if self._detected_at.get(tr.id, float("-inf")) >= since and t - tr.last_seen <= tracker.max_age_seconds]
        if region is None:
            return [tr for tr in alive if all(b.iou(tr.box) < tracker.iou_threshold for b in boxes)]
        x, y, w, h = region
        return [tr for tr in alive
                if not (x <= (tr.box.x1 + tr.box.x2) / 2 < x + w and y <= (tr.box.y1 + tr.box.y2) / 2 < y + h)]

    def stats(self) -> dict[str, Any]:
        """The detection rate in use."""
        return {"detect_every": self.every()}


def _ema(old: float, new: float, alpha: float = 0.2) -> float:
    return new if old == 0.0 else (1 - alpha) * old + alpha * new
