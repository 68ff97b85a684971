"""Is a live face good enough to judge? The enrollment gate's size, sharpness and light limits, plus pose and edge."""
from __future__ import annotations

import cv2
import numpy as np

from .face_policy import MIN_BRIGHTNESS, MIN_FACE_PX, MIN_SHARPNESS, SHARPNESS_SIZE
from .types import FaceBox

# A box cut by the frame edge holds part of a face. res10 boxes of frontal faces are about as tall
# as wide (height/width 1.0-1.4); a strongly turned head gives a narrow box.
EDGE_MARGIN_PX = 2
MIN_ASPECT, MAX_ASPECT = 0.7, 1.8


def measure(image: np.ndarray, box: FaceBox) -> tuple[float, float]:
    """(variance of the Laplacian, mean grey level) of the face box at 128x128; image (H, W[, 3]).

    A box smaller than 128 px is enlarged bilinearly: INTER_AREA enlarges like nearest-neighbour, and its
    blocks read as sharp edges. Measured on scenario frames (bench/RESULTS.md, issue 10): the blurred
    46-48 px faces94 bystander scored 85-151 that way and 5-6 bilinear (33-36 px lfw10 one: 43-57 / 3);
    every real face of 69-125 px stayed >= 22 bilinear, and unblurred faces shrunk to 43-62 px >= 12.
    """
    crop = image[max(0, box.y1):box.y2, max(0, box.x1):box.x2]
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    enlarge = min(grey.shape[:2]) < SHARPNESS_SIZE
    face = cv2.resize(grey, (SHARPNESS_SIZE, SHARPNESS_SIZE),
                      interpolation=cv2.INTER_LINEAR if enlarge else cv2.INTER_AREA)
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
