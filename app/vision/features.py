"""Feature extractors: turn face chips into the vectors the Recognizer learns from."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from .preprocess import VECTOR_LENGTH, chip_to_vector


class FeatureError(RuntimeError):
    """A feature kind cannot be used here (unknown name, optional package missing)."""


class FeatureExtractor(Protocol):
    """Anything that maps chips (n, 192, 192, 3) uint8 to vectors (n, d) float32."""

    name: str
    dimension: int

    def from_chips(self, chips: list[np.ndarray]) -> np.ndarray: ...


class PixelFeatures:
    """The user's design: equalised, blurred 128x128 grey pixels (16,384 values)."""

    name = "pixels"
    dimension = VECTOR_LENGTH

    def from_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, 16384) float32."""
        if not chips:
            return np.empty((0, self.dimension), np.float32)
        return np.stack([chip_to_vector(c) for c in chips]).astype(np.float32)


class DlibFeatures:
    """dlib's 128-d ResNet embedding of the face aligned on its 5 landmarks (optional packages)."""

    name = "dlib"
    dimension = 128

    def __init__(self) -> None:
        # Imported here so the app runs without dlib until a course asks for these features.
        from .dlib_embedder import DlibUnavailable, shared_embedder

        try:
            self._embedder = shared_embedder()
        except DlibUnavailable as exc:
            raise FeatureError(f"features 'dlib' are not available: {exc}") from exc

    def from_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, 128) float32."""
        return self._embedder.embed(list(chips))


FEATURE_KINDS = ("pixels", "dlib")


FEATURE_LABELS = {
    "pixels": "Pixels: 128x128 grey face (fast; fine in even light, like a passport photo booth)",
    "dlib": "Deep features: dlib face embedding (about 0.1 s per face; far better with real-world light and poses)",
}


def check_feature_kind(kind: str) -> None:
    """Raise FeatureError unless this kind can run here; cheap (loads no model)."""
    if kind == "pixels":
        return
    if kind == "dlib":
        from .dlib_embedder import DlibUnavailable, check_available

        try:
            check_available()
        except DlibUnavailable as exc:
            raise FeatureError(f"features 'dlib' are not available: {exc}") from exc
        return
    raise FeatureError(f"unknown feature kind {kind!r}; choose one of {', '.join(FEATURE_KINDS)}")


def get_extractor(kind: str) -> FeatureExtractor:
    """The extractor for a feature kind name; FeatureError says what to install when it cannot run."""
    if kind == "pixels":
        return PixelFeatures()
    if kind == "dlib":
        return DlibFeatures()
    raise FeatureError(f"unknown feature kind {kind!r}; choose one of {', '.join(FEATURE_KINDS)}")
