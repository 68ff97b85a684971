"""Groups a session's unknown tracks into strangers by feature similarity: one stranger, one alert."""
from __future__ import annotations

import numpy as np

from .appearance import normalise, similarity


class Strangers:
    """The strangers of one session so far; `assign` says which one a new unknown track is."""

    def __init__(self, same_person: float | None) -> None:
        self.same_person = same_person
        self._groups: list[np.ndarray | None] = []  # unit mean feature per stranger (d,); None: no feature
        self._sizes: list[int] = []

    def __len__(self) -> int:
        return len(self._groups)

    def assign(self, feature: np.ndarray | None) -> tuple[int, bool]:
        """(stranger number from 1, True if this is a stranger not seen before in the session)."""
        if feature is not None and self.same_person is not None and self._groups:
            unit = normalise(feature)
            scores = [similarity(unit, g) if g is not None else -1.0 for g in self._groups]
            best = int(np.argmax(scores))
            if scores[best] >= self.same_person:
                n = self._sizes[best]
                self._groups[best] = normalise(self._groups[best] * n + unit)  # type: ignore[operator]
                self._sizes[best] = n + 1
                return best + 1, False
        self._groups.append(normalise(feature) if feature is not None else None)
        self._sizes.append(1)
        return len(self._groups), True
