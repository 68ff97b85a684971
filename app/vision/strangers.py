"""Groups a session's unknown tracks into strangers by feature similarity (and, in a seated class, by seat):
one stranger, one alert."""
from __future__ import annotations

import numpy as np

from .appearance import normalise, similarity
from .types import FaceBox

# A seated class: a new unknown track whose box overlaps a stranger's last box this much is that stranger
# back in the same seat (a re-created track of a small face whose features wander at 50-90 px). Not for
# a doorway, where the next person steps into the very spot the last one left.
SAME_SEAT_IOU = 0.3


class Strangers:
    """The strangers of one session so far; `assign` says which one a new unknown track is."""

    def __init__(self, same_person: float | None, same_seat: float | None = None) -> None:
        self.same_person = same_person
        self.same_seat = same_seat  # IoU with a stranger's last box that means the same seat (None: off)
        self._groups: list[np.ndarray | None] = []  # unit mean feature per stranger (d,); None: no feature
        self._sizes: list[int] = []
        self._seats: list[FaceBox | None] = []  # each stranger's last box

    def __len__(self) -> int:
        return len(self._groups)

    def assign(self, feature: np.ndarray | None, box: FaceBox | None = None) -> tuple[int, bool]:
        """(stranger number from 1, True if this is a stranger not seen before in the session)."""
        unit = normalise(feature) if feature is not None else None
        best = self._same_seat(box)
        if best is None and unit is not None and self.same_person is not None and self._groups:
            scores = [similarity(unit, g) if g is not None else -1.0 for g in self._groups]
            if max(scores) >= self.same_person:
                best = int(np.argmax(scores))
        if best is not None:
            self._join(best, unit, box)
            return best + 1, False
        self._groups.append(unit)
        self._sizes.append(1)
        self._seats.append(box)
        return len(self._groups), True

    def _same_seat(self, box: FaceBox | None) -> int | None:
        """Index of the stranger whose last box this one overlaps most, past same_seat; else None."""
        if self.same_seat is None or box is None:
            return None
        overlaps = [box.iou(seat) if seat is not None else 0.0 for seat in self._seats]
        if not overlaps or max(overlaps) < self.same_seat:
            return None
        return int(np.argmax(overlaps))

    def _join(self, i: int, unit: np.ndarray | None, box: FaceBox | None) -> None:
        """Add a track to stranger i: its unit feature to the running mean, its box as the last seat."""
        if unit is not None:
            n = self._sizes[i]
            self._groups[i] = unit if self._groups[i] is None else normalise(self._groups[i] * n + unit)
            self._sizes[i] = n + 1
        if box is not None:
            self._seats[i] = box
