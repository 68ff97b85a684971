"""Is a live face good enough to judge? Size, sharpness, light and pose limits like enrollment's gate."""
from __future__ import annotations

import cv2
import numpy as np

from .types import FaceBox

# The same limits as the enrollment gate (app/students/quality.py), measured there: faces below
# 48 px are upscaled 3x to the 128 px crop; a sigma-3 blur takes real faces from >= 25 to 5-10 in
# Laplacian variance at 128x128; below a mean grey of 25 equalisation amplifies noise.
MIN_FACE_PX = 48
MIN_SHARPNESS = 12.0
MIN_BRIGHTNESS = 25.0
SHARPNESS_SIZE = 128
# A box cut by the frame edge holds part of a face. res10 boxes of frontal faces are about as tall
# as wide (height/width 1.0-1.4); a strongly turned head gives a narrow box.
EDGE_MARGIN_PX = 2
MIN_ASPECT, MAX_ASPECT = 0.7, 1.8


def measure(image: np.ndarray, box: FaceBox) -> tuple[float, float]:
    """(variance of the Laplacian, mean grey level) of the face box at 128x128; image (H, W[, 3])."""
    crop = image[max(0, box.y1):box.y2, max(0, box.x1):box.x2]
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    face = cv2.resize(grey, (SHARPNESS_SIZE, SHARPNESS_SIZE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var()), float(face.mean())


def unjudgeable_reason(frame: np.ndarray, box: FaceBox) -> str | None:
    """Why this face is no evidence of a stranger (None: it is judgeable); frame (H, W, 3) BGR."""
    if min(box.width, box.height) < MIN_FACE_PX:
        return "face too small"
    h, w = frame.shape[:2]
    if box.x1 < EDGE_MARGIN_PX or box.y1 < EDGE_MARGIN_PX or box.x2 > w - EDGE_MARGIN_PX or box.y2 > h - EDGE_MARGIN_PX:
        return "face cut by the frame edge"
    if not MIN_ASPECT <= box.height / box.width <= MAX_ASPECT:
        return "face turned away"
    sharpness, brightness = measure(frame, box)
    if brightness < MIN_BRIGHTNESS:
        return "too dark"
    if sharpness < MIN_SHARPNESS:
        return "too blurry"
    return None
