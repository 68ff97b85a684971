"""Which part of the frame the live detector looks at on each detection: the whole frame, or one tile in turn.

A 300x300 blob of a 1280x720 frame misses faces under ~66 px; the same blob over a quarter-size tile
finds them down to ~40 px at the same cost (FACTS.md). Running every tile on every frame costs ~5x
and halves the frame rate, so the classroom view looks at ONE region per detection, in rotation
(whole frame, then each tile), and the tracker carries the boxes of the other regions in between.
A still class loses nothing by it; a doorway, where a face must be caught in a few frames, keeps the
whole frame on every detection. Measured choice: bench/RESULTS.md "Issue 12: whole class".
"""
from __future__ import annotations

import numpy as np

from .detector import FaceDetector, _tile_grid
from .face_policy import distinct_faces
from .types import FaceBox

VIEWS = ("doorway", "classroom")
# Measured alternatives the bench compares (not offered on the Start form).
BENCH_VIEWS = ("wide-blob", "all-tiles")
VIEW_LABELS = {
    "doorway": "Doorway: people pass close to the camera one or a few at a time (checks the whole picture every frame)",
    "classroom": "Whole class: one wide camera sees everyone seated, faces down to about 40 px (checks a part of "
                 "the picture each frame in turn)",
}
WIDE_BLOB = (640, 360)
# Tiles overlap by a quarter of a tile: at 1280x720 that is 183 px across and 102 px down, so any face up to
# 100 px is whole in some tile; larger ones are found by the whole-frame pass (>= ~66 px at 720p).
TILE_OVERLAP = 0.25

Region = tuple[int, int, int, int]  # x, y, width, height


class DetectionSchedule:
    """The regions of one detection cycle for a view, and detect(detector, frame, k) for the k-th detection."""

    def __init__(self, view: str = "doorway", tiles: int = 2) -> None:
        if view not in VIEWS + BENCH_VIEWS:
            raise ValueError(f"unknown camera view {view!r}; choose one of {', '.join(VIEWS)}")
        self.view = view
        self.tiles = max(2, tiles)

    def regions(self, shape: tuple[int, ...]) -> list[Region | None]:
        """The cycle for a frame of this shape; None is the whole frame."""
        if self.view != "classroom":
            return [None]
        h, w = shape[:2]
        return [None, *_tile_grid(w, h, self.tiles, TILE_OVERLAP)]

    def region(self, shape: tuple[int, ...], k: int) -> Region | None:
        """The region the k-th detection looks at (None: the whole frame)."""
        regions = self.regions(shape)
        return regions[k % len(regions)]

    def cycle_length(self, shape: tuple[int, ...]) -> int:
        """Detections needed before every part of the frame has been looked at once."""
        return len(self.regions(shape))

    def detect(self, detector: FaceDetector, frame: np.ndarray, k: int) -> list[FaceBox]:
        """Boxes (frame coordinates) found by the k-th detection of the schedule, one per face.

        What counts as one face is face_policy's rule, the one enrollment and evaluation use: a tile's
        box on a chin or collar, or the same face seen by two overlapping regions, is not a second face."""
        return distinct_faces(self._boxes(detector, frame, k))

    def _boxes(self, detector: FaceDetector, frame: np.ndarray, k: int) -> list[FaceBox]:
        """The detector's boxes for this detection's region(s), before one-face-one-box."""
        if self.view == "doorway":
            return detector.detect(frame)  # the app's live detector, tiles as configured
        if self.view == "wide-blob":
            return detector.detect_region(frame, None, WIDE_BLOB)
        if self.view == "all-tiles":
            h, w = frame.shape[:2]
            boxes = detector.detect_region(frame)
            for region in _tile_grid(w, h, self.tiles, TILE_OVERLAP):
                boxes += detector.detect_region(frame, region)
            return boxes
        return detector.detect_region(frame, self.region(frame.shape, k))
