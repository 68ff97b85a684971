"""Quality gate for enrollment images: one clear, large enough, bright enough face (no Flask, no DB)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

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
# The SSD sometimes reports part of a big face (chin, cheek) as a second face; a box lying mostly
# inside the best one is that, not a second person.
NESTED_FRACTION = 0.5

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
    return [best] + [b for b in boxes[1:] if _inside_fraction(b, best) <= NESTED_FRACTION]


def merge_boxes(primary: list[FaceBox], extra: list[FaceBox], shape: tuple[int, ...],
                max_iou: float = 0.3) -> list[FaceBox]:
    """Primary boxes, plus extra ones that are a different whole face (no overlap, not nested).

    Extra boxes touching the image edge are ignored: when a face fills the photo, the unpadded SSD
    reports a confident "face" in a corner (faces94: 0.98), clipped by the border.
    """
    if not primary:
        return list(extra)
    h, w = shape[:2]
    merged = list(primary)
    for box in extra:
        on_edge = box.x1 <= 0 or box.y1 <= 0 or box.x2 >= w or box.y2 >= h
        if not on_edge and all(box.iou(m) <= max_iou and _inside_fraction(box, m) <= NESTED_FRACTION
                               and _inside_fraction(m, box) <= NESTED_FRACTION for m in merged):
            merged.append(box)
    return merged


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


def _inside_fraction(inner: FaceBox, outer: FaceBox) -> float:
    ix = max(0, min(inner.x2, outer.x2) - max(inner.x1, outer.x1))
    iy = max(0, min(inner.y2, outer.y2) - max(inner.y1, outer.y1))
    return ix * iy / inner.area if inner.area else 1.0
