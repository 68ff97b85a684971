"""Quality gate for enrollment images: one clear, large enough, bright enough face (no Flask, no DB)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..vision.detector import NESTED_FRACTION
from ..vision.types import FaceBox

# Measured on the face box resized to 128x128 grey, the recognizer's input scale, so numbers are
# comparable across photo sizes. Real faces in faces94/LFW/ORL/johns scored >= 25 for sharpness;
# a Gaussian blur of sigma 3 px drops them to 5-10, where the features are mush.
SHARPNESS_SIZE = 128
MIN_SHARPNESS = 12.0
# Mean grey level of the face box: the darkest usable faces94 faces are ~28; below 25 the histogram
# equalisation mostly amplifies sensor noise.
MIN_BRIGHTNESS = 25.0
# Smaller faces are upscaled 3x or more to the 128 px crop: no detail left to learn from.
MIN_FACE_PX = 48

NO_FACE = "no face found"
MANY_FACES = "more than one face"
TOO_SMALL = "face too small"
TOO_BLURRY = "too blurry"
TOO_DARK = "too dark"


@dataclass(frozen=True)
class Verdict:
    """Outcome for one image: the face box when accepted, else the reason."""

    box: FaceBox | None
    reason: str | None
    sharpness: float = 0.0
    brightness: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.reason is None


def distinct_faces(boxes: list[FaceBox]) -> list[FaceBox]:
    """Boxes (best first) without those nested inside the best one."""
    if not boxes:
        return []
    best = boxes[0]
    return [best] + [b for b in boxes[1:] if b.inside_fraction(best) <= NESTED_FRACTION]


def judge(image: np.ndarray, boxes: list[FaceBox]) -> Verdict:
    """Apply the gate to an image (H, W, 3) BGR and the detector's boxes for it."""
    faces = distinct_faces(boxes)
    if not faces:
        return Verdict(None, NO_FACE)
    if len(faces) > 1:
        return Verdict(None, f"{MANY_FACES} ({len(faces)} found)")
    box = faces[0]
    if min(box.width, box.height) < MIN_FACE_PX:
        return Verdict(None, f"{TOO_SMALL} ({min(box.width, box.height)} px, need {MIN_FACE_PX})")
    sharpness, brightness = measure(image, box)
    if brightness < MIN_BRIGHTNESS:
        return Verdict(None, TOO_DARK, sharpness, brightness)
    if sharpness < MIN_SHARPNESS:
        return Verdict(None, TOO_BLURRY, sharpness, brightness)
    return Verdict(box, None, sharpness, brightness)


def measure(image: np.ndarray, box: FaceBox) -> tuple[float, float]:
    """(variance of the Laplacian, mean grey level) of the face box at 128x128."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    face = cv2.resize(grey[box.y1:box.y2, box.x1:box.x2], (SHARPNESS_SIZE, SHARPNESS_SIZE),
                      interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var()), float(face.mean())
