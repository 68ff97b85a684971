"""Eye alignment of face chips on dlib's 5 landmarks: the eyes land on fixed pixels of the crop.

dlib (PyPI `dlib-bin`) and its landmark file (`face-recognition-models`) are optional: nothing
imports dlib until a LandmarkAligner is built, and DlibUnavailable says what is missing.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np

from .dlib_embedder import SHAPE_MODEL, DlibUnavailable, import_dlib, model_dir
from .preprocess import chip_box

__all__ = ["DlibUnavailable", "LandmarkAligner", "similarity_to", "template_points"]

# Mean of dlib's 5 points (outer/inner corner of the image-right eye, inner/outer corner of the
# image-left eye, bottom of the nose) over the lfw10 chips, in units of the distance between the
# eye centres, origin at their midpoint. Fitting all five (least squares) instead of the two eye
# centres keeps a turned head from being zoomed in, since the nose pins the scale too.
_TEMPLATE_UNITS = np.array([[0.70, 0.0], [0.30, 0.0], [-0.70, 0.0], [-0.30, 0.0], [0.0, 0.79]], np.float64)
# Where the eyes go in the output crop, as fractions of its side; eyes at 0.40 of the height.
# lfw10 closed set, 10 seeds, flask evaluate's protocol: eye distance 0.30 / 0.35 / 0.40 with the
# old pixel vector 74.9 / 74.9 / 76.1%; LBP radius 1 at 0.35 / 0.40 / 0.45: 80.2 / 78.1 / 81.2%;
# LBP radius 2 at 0.40 / 0.45: 83.1 / 83.5% (exploration runs; bench/RESULTS.md, issue 13, has the
# 0.40 and 0.45 rows). A tight crop: cheeks, brows and mouth, little hair or background.
EYE_DISTANCE = 0.45
EYE_HEIGHT = 0.40


def template_points(size: int, eye_distance: float = EYE_DISTANCE, eye_height: float = EYE_HEIGHT) -> np.ndarray:
    """(5, 2) target pixel positions of the 5 landmarks in a (size, size) aligned crop."""
    origin = np.array([size / 2.0, eye_height * size])
    return origin + _TEMPLATE_UNITS * (eye_distance * size)


def similarity_to(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(2, 3) rotation + uniform scale + shift that maps src (n, 2) onto dst (n, 2) in least squares."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    # Closed form for a similarity with no reflection: a = s.d / |s|^2, b = s x d / |s|^2.
    norm = float((s ** 2).sum())
    a = float((s * d).sum()) / norm
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / norm
    rot = np.array([[a, -b], [b, a]])
    return np.hstack([rot, (md - rot @ ms)[:, None]])


class LandmarkAligner:
    """dlib's 5-point predictor, loaded once; turns a chip into a crop with the eyes in fixed places."""

    def __init__(self) -> None:
        dlib = import_dlib()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(model_dir() / SHAPE_MODEL))
        self._lock = threading.Lock()  # dlib objects are not thread-safe

    def landmarks(self, grey_chip: np.ndarray, equalise: bool = True) -> np.ndarray:
        """(5, 2) float landmark positions inside a (s, s) grey chip, searched in its detector box.

        Searched on an equalised copy: in a dark or half-shadowed face the predictor misplaces the
        eyes. ORL under harsh synthetic side light, 10 seeds: 82.0 -> 89.8% closed, 48.8 -> 57.5%
        DIR at 1% FAR; lfw10 unchanged (84.1%, 52.3 / 51.9%) (bench/RESULTS.md, issue 13).
        """
        box = chip_box(grey_chip.shape[0])
        rect = self._dlib.rectangle(int(box.x1), int(box.y1), int(box.x2), int(box.y2))
        img = np.ascontiguousarray(grey_chip, dtype=np.uint8)
        if equalise:
            img = cv2.equalizeHist(img)
        with self._lock:
            shape = self._shape(img, rect)
        return np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], np.float64)

    def align(self, grey_chip: np.ndarray, size: int, eye_distance: float = EYE_DISTANCE,
              eye_height: float = EYE_HEIGHT) -> np.ndarray:
        """(size, size) uint8 grey crop warped so the 5 landmarks sit on template_points(size, ...)."""
        matrix = similarity_to(self.landmarks(grey_chip), template_points(size, eye_distance, eye_height))
        # Replicated edges, not black: a black wedge where a tilted face meets the chip border
        # would become a strong, identity-free edge in the descriptors.
        return cv2.warpAffine(grey_chip, matrix, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)


_shared: LandmarkAligner | None = None
_shared_lock = threading.Lock()


def shared_aligner() -> LandmarkAligner:
    """The process-wide aligner (the 5-point model is 9 MB and loads in ~0.1 s)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = LandmarkAligner()
    return _shared
