"""Face chips, crops and vectors: the one path that enrollment, training and the live loop share.

A detected face is first cut out as a colour *chip* (what enrollment stores); the 128x128 grey
*crop* and the recognizer's *vector* are always derived from the chip, so training and live
recognition see identical pixels.
"""
from __future__ import annotations

import cv2
import numpy as np

from .types import FaceBox

FACE_SIZE = 128
VECTOR_LENGTH = FACE_SIZE * FACE_SIZE
# The chip keeps generous context (for other feature kinds, such as landmark alignment).
CHIP_SIZE = 192
CHIP_SCALE = 1.5  # chip side / face box side
# The grey crop keeps context around the detector box (chin, brow, face outline): on ORL,
# 1.0 / 1.1 / 1.4 x the box gave 97.1 / 97.3 / 98.1% closed-set (10 seeds, bench/RESULTS.md).
CROP_SCALE = 1.4
# Gaussian blur after equalisation; sigma 4 px (on 128 px) measured best on ORL (bench/RESULTS.md).
BLUR_SIGMA = 4.0


def face_chip(frame: np.ndarray, box: FaceBox, size: int = CHIP_SIZE) -> np.ndarray:
    """Square colour chip (size, size, 3) uint8 BGR centred on a face; outside the frame is black."""
    bgr = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    cx, cy = (box.x1 + box.x2) / 2.0, (box.y1 + box.y2) / 2.0
    side = max(box.width, box.height) * CHIP_SCALE
    x1, y1 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x2, y2 = x1 + max(1, int(round(side))), y1 + max(1, int(round(side)))
    h, w = bgr.shape[:2]
    pad = max(0, -x1, -y1, x2 - w, y2 - h)
    if pad:
        bgr = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        x1, y1, x2, y2 = x1 + pad, y1 + pad, x2 + pad, y2 + pad
    return cv2.resize(bgr[y1:y2, x1:x2], (size, size), interpolation=cv2.INTER_AREA)


def chip_box(size: int = CHIP_SIZE) -> FaceBox:
    """Where the detector's face box lies inside a chip of this size."""
    side = size / CHIP_SCALE
    lo = int(round((size - side) / 2))
    return FaceBox(lo, lo, lo + int(round(side)), lo + int(round(side)), 1.0)


def chip_to_crop(chip: np.ndarray) -> np.ndarray:
    """The grey (128, 128) uint8 face crop inside a chip."""
    grey = chip if chip.ndim == 2 else cv2.cvtColor(chip, cv2.COLOR_BGR2GRAY)
    size = grey.shape[0]
    side = size * CROP_SCALE / CHIP_SCALE
    lo = int(round((size - side) / 2))
    hi = lo + int(round(side))
    return cv2.resize(grey[lo:hi, lo:hi], (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def crop_to_vector(crop: np.ndarray) -> np.ndarray:
    """Normalised float32 vector (16384,) from a grey crop: equalised, blurred, zero mean, unit norm."""
    if crop.ndim != 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if crop.shape != (FACE_SIZE, FACE_SIZE):
        crop = cv2.resize(crop, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    # Histogram equalisation evens out classroom lighting before anything is learnt.
    eq = cv2.equalizeHist(crop.astype(np.uint8))
    # Blurring discards pixel-level detail that mostly encodes alignment error, not identity.
    vec = cv2.GaussianBlur(eq, (0, 0), BLUR_SIGMA).astype(np.float32).ravel()
    vec -= vec.mean()
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def chip_to_vector(chip: np.ndarray) -> np.ndarray:
    """Recognizer input (16384,) from a stored or live chip."""
    return crop_to_vector(chip_to_crop(chip))


def face_to_vector(frame: np.ndarray, box: FaceBox) -> np.ndarray:
    """Cut a detected face out of a frame and turn it into the recognizer's input vector (16384,)."""
    return chip_to_vector(face_chip(frame, box))
