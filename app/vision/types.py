"""Plain dataclasses passed between the vision pipeline and the rest of the app."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaceBox:
    """A detected face: pixel box (x1, y1) inclusive to (x2, y2) exclusive, and detector confidence."""

    x1: int
    y1: int
    x2: int
    y2: int
    confidence: float

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def intersection(self, other: "FaceBox") -> int:
        """Area (px) the two boxes share."""
        return max(0, min(self.x2, other.x2) - max(self.x1, other.x1)) * \
            max(0, min(self.y2, other.y2) - max(self.y1, other.y1))

    def iou(self, other: "FaceBox") -> float:
        """Intersection over union with another box (0.0 when they do not overlap)."""
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def inside_fraction(self, other: "FaceBox") -> float:
        """Share of this box's area that lies inside the other box (1.0 for an empty box)."""
        return self.intersection(other) / self.area if self.area else 1.0


@dataclass(frozen=True)
class Prediction:
    """What the recognizer says about one face: a label (None = unknown) and a score in [0, 1]."""

    label: int | None
    score: float
    best_label: int
