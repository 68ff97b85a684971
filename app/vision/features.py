"""Feature extractors: turn face chips into the vectors the Recognizer learns from."""
from __future__ import annotations

import logging
from typing import Protocol

import cv2
import numpy as np

from .preprocess import CHIP_SCALE, FACE_SIZE, VECTOR_LENGTH, chip_to_crop, chip_to_grey, crop_to_vector

log = logging.getLogger(__name__)

# Bump when anything between the stored chip and the vector changes: recognizers trained with
# another version then ask for a retrain instead of mispredicting. 1 = equalised, blurred,
# masked 128x128 pixels on a 1.4x box crop (no version was recorded then); 2 = issue 13's
# eye-aligned crop with LBP + HOG descriptors.
PIXEL_PIPELINE_VERSION = 2


class FeatureError(RuntimeError):
    """A feature kind cannot be used here (unknown name, optional package missing)."""


class FeatureExtractor(Protocol):
    """Anything that maps chips (n, 192, 192, 3) uint8 to vectors (n, d) float32."""

    name: str
    dimension: int
    pipeline: str  # name/version of the chip -> vector code, recorded with every trained recognizer

    def from_chips(self, chips: list[np.ndarray]) -> np.ndarray: ...


class PixelFeatures:
    """The user's design: a 128x128 grey face crop -> LBP + HOG descriptors (then PCA -> LDA -> SVM).

    The crop is aligned on the eyes with dlib's 5 landmarks when they are installed (pipeline
    'pixels/2-aligned'); without them it is a fixed 1.2x share of the detector box ('pixels/2-box'),
    a separate, recorded pipeline: a recognizer of one kind is refused with the other, never mixed.
    """

    name = "pixels"
    dimension = VECTOR_LENGTH

    def __init__(self, align: bool | None = None) -> None:
        # None: align when dlib's landmark model is installed; True: require it; False: never.
        self._aligner = None
        if align is not False:
            from .alignment import DlibUnavailable, shared_aligner

            try:
                self._aligner = shared_aligner()
            except DlibUnavailable as exc:
                if align:
                    raise FeatureError(f"eye alignment is not available: {exc}") from exc
                log.warning("pixel features without eye alignment (%s): expect lower accuracy", exc)
        self.pipeline = pixel_pipeline(self._aligner is not None)

    def crop(self, chip: np.ndarray) -> np.ndarray:
        """The (128, 128) uint8 grey crop the descriptors see: aligned on the eyes, or the box crop."""
        if self._aligner is None:
            return chip_to_crop(chip, BOX_CROP_SCALE)
        return self._aligner.align(chip_to_grey(chip), FACE_SIZE)

    def from_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, VECTOR_LENGTH) float32."""
        if not len(chips):
            return np.empty((0, self.dimension), np.float32)
        return np.stack([crop_to_vector(self.crop(c)) for c in chips]).astype(np.float32)


# The crop without landmarks: descriptors want little background. lfw10 closed / DIR@1% FAR, 10
# seeds: 1.1x box 70.4 / 32.4%, 1.2x 70.3 / 29.7%, 1.4x 66.9 / 27.2% (aligned: 84.1 / 52.3%);
# 1.2x keeps the chin and brows of faces the detector boxes tightly (bench/RESULTS.md, issue 13).
BOX_CROP_SCALE = 1.2


def pixel_pipeline(aligned: bool) -> str:
    """The pipeline name PixelFeatures records, e.g. 'pixels/2-aligned'."""
    return f"pixels/{PIXEL_PIPELINE_VERSION}-{'aligned' if aligned else 'box'}"


class DlibFeatures:
    """dlib's 128-d ResNet embedding of the face aligned on its 5 landmarks (optional packages)."""

    name = "dlib"
    dimension = 128
    pipeline = "dlib/1"

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


def degrade_to_face_width(chip: np.ndarray, face_px: int) -> np.ndarray:
    """The chip as the camera would give it for a face face_px wide: shrunk to that size and scaled back.

    chip (CHIP_SIZE, CHIP_SIZE, 3) uint8 whose detector box is CHIP_SIZE / CHIP_SCALE wide (preprocess.py);
    the live chip of a small face is upscaled from few pixels, so enrollment photos can be shown that way too.
    """
    size = chip.shape[0]
    small = max(8, int(round(face_px * CHIP_SCALE)))  # the chip spans CHIP_SCALE face widths
    if small >= size:
        return chip
    shrunk = cv2.resize(chip, (small, small), interpolation=cv2.INTER_AREA)
    return cv2.resize(shrunk, (size, size), interpolation=cv2.INTER_AREA)


FEATURE_KINDS = ("pixels", "dlib")


FEATURE_LABELS = {
    "pixels": "Pixels: 128x128 grey face aligned on the eyes, texture histograms (fast; best in even light)",
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


def current_pipeline(kind: str) -> str:
    """The pipeline get_extractor(kind) would use here, without loading any model (cheap)."""
    if kind == "dlib":
        return DlibFeatures.pipeline
    from .dlib_embedder import DlibUnavailable, check_available

    try:
        check_available()
    except DlibUnavailable:
        return pixel_pipeline(False)
    return pixel_pipeline(True)
