"""What counts as one face, which face is a photo's subject, and whether it is good enough to learn from.

One rule for every enrollment path (photo upload, ZIP, `flask enroll`, video frames) and for
`flask evaluate`'s dataset loading, so a face accepted in one place is accepted everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .detector import FaceDetector, merge_boxes
from .types import FaceBox

# Two boxes overlapping this much (IoU), or one lying this much inside the other, are one face.
SAME_FACE_IOU = 0.3
SAME_FACE_INSIDE = 0.5
# The tile pass reports the subject's chin and collar as a second "face" overlapping the lower part of
# the real one (FACTS: e.g. (139,140)-(215,225) beside a (79,58)-(171,191) face on a 250x250 LFW photo,
# 27% inside it). A smaller box that overlaps a face by this share and is centred lower is that face;
# a bystander's face is beside or behind the subject, not hanging from its chin.
OVERLAP_BELOW = 0.1
# Subject: the largest face is the subject when every other face's side is at most DOMINANT_SIDE of
# its side (clearly dominant), or at most CENTRED_SIDE while it sits near the photo's centre and the
# others do not. Measured on lfw10 (260 news portraits) and detect/ (9 group photos, faces within
# 0.8-1.0 of each other): 0.6 / 0.85 accepts 254 of 260 portraits and refuses every group photo;
# 0.7 / 0.9 would accept 257 and still refuse them, a margin kept on purpose (bench_enrollment.py).
DOMINANT_SIDE = 0.6
CENTRED_SIDE = 0.85
CENTRE_RADIUS = 0.25  # of the photo's diagonal

# Quality, measured on the face box resized to 128x128 grey (the recognizer's input scale), so numbers
# are comparable across photo sizes. Real faces in faces94/LFW/ORL/johns scored >= 25 for sharpness;
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
    """Outcome for one image: the subject's box when accepted, else the reason; faces = distinct faces seen."""

    box: FaceBox | None
    reason: str | None
    sharpness: float = 0.0
    brightness: float = 0.0
    faces: list[FaceBox] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.reason is None


def _same_face(small: FaceBox, big: FaceBox) -> bool:
    """True when `small` (not larger than `big`) is the SSD seeing part of, or again, the face `big`."""
    if small.iou(big) > SAME_FACE_IOU or small.inside_fraction(big) > SAME_FACE_INSIDE:
        return True
    return small.inside_fraction(big) >= OVERLAP_BELOW and small.y1 + small.y2 > big.y1 + big.y2


def distinct_faces(boxes: list[FaceBox]) -> list[FaceBox]:
    """One box per face, largest first: overlapping, nested and chin/collar boxes merge into the larger face."""
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: (b.area, b.confidence), reverse=True):
        if not any(_same_face(box, k) for k in kept):
            kept.append(box)
    return kept


def _side(box: FaceBox) -> float:
    return float(np.sqrt(box.area))


def _near_centre(box: FaceBox, shape: tuple[int, ...]) -> bool:
    h, w = shape[:2]
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    return float(np.hypot(cx - w / 2, cy - h / 2)) <= CENTRE_RADIUS * float(np.hypot(w, h))


def subject_of(faces: list[FaceBox], shape: tuple[int, ...]) -> FaceBox | None:
    """The photo's subject among distinct faces (largest first), or None when two or more are comparable."""
    if not faces:
        return None
    main, others = faces[0], faces[1:]
    if not others:
        return main
    ratio = _side(others[0]) / max(1.0, _side(main))
    if ratio <= DOMINANT_SIDE:
        return main
    if ratio <= CENTRED_SIDE and _near_centre(main, shape) and not any(_near_centre(o, shape) for o in others):
        return main
    return None


def candidate_faces(detector: FaceDetector, image: np.ndarray, still: bool) -> list[FaceBox]:
    """The boxes an image offers judge(): a still photo gets the photo pass (padded + tiled: tight crops and
    small faces); a video frame the live pass without the confident corner boxes a face filling the frame
    gives (see merge_boxes). image: HxWx3 BGR uint8."""
    if still:
        return detector.detect_photo(image)
    found = detector.detect(image)
    return merge_boxes(found[:1], found, image.shape)


def measure(image: np.ndarray, box: FaceBox) -> tuple[float, float]:
    """(variance of the Laplacian, mean grey level) of the face box at 128x128."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    face = cv2.resize(grey[box.y1:box.y2, box.x1:box.x2], (SHARPNESS_SIZE, SHARPNESS_SIZE),
                      interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var()), float(face.mean())


def judge(image: np.ndarray, boxes: list[FaceBox]) -> Verdict:
    """Apply the gate to an image (H, W, 3) BGR and the detector's boxes for it: one clear subject, good enough."""
    faces = distinct_faces(boxes)
    if not faces:
        return Verdict(None, NO_FACE)
    box = subject_of(faces, image.shape)
    if box is None:
        return Verdict(None, f"{MANY_FACES} ({len(faces)} found)", faces=faces)
    if min(box.width, box.height) < MIN_FACE_PX:
        return Verdict(None, f"{TOO_SMALL} ({min(box.width, box.height)} px, need {MIN_FACE_PX})", faces=faces)
    sharpness, brightness = measure(image, box)
    if brightness < MIN_BRIGHTNESS:
        return Verdict(None, TOO_DARK, sharpness, brightness, faces)
    if sharpness < MIN_SHARPNESS:
        return Verdict(None, TOO_BLURRY, sharpness, brightness, faces)
    return Verdict(box, None, sharpness, brightness, faces)


def draw_faces(image: np.ndarray, faces: list[FaceBox], max_side: int = 320) -> np.ndarray:
    """A thumbnail (at most max_side px) with every distinct face boxed, so a refusal can be checked at a glance."""
    bgr = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    thumb = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    for i, b in enumerate(faces):
        colour = (40, 200, 40) if i == 0 else (40, 40, 230)
        cv2.rectangle(thumb, (round(b.x1 * scale), round(b.y1 * scale)),
                      (round(b.x2 * scale) - 1, round(b.y2 * scale) - 1), colour, 2)
    return thumb


# Near-duplicates: the chip shrunk to 32x32 grey and normalised; mean absolute difference of two such
# signatures. Same bytes give 0.000 and a re-encoded copy whose face box lands on the same pixels ~0.005;
# when the box moves a pixel or two (re-scaled copies) 0.02-0.11. Consecutive frames of one person
# talking (faces94), useful different samples, differ by as little as 0.026: no threshold separates
# them from moved copies, so only copies on the same pixels (<= 0.01) are refused (issue 11 notes).
SIGNATURE_SIZE = 32
DUPLICATE_MAX_DIFF = 0.01


def chip_signature(chip: np.ndarray) -> np.ndarray:
    """(1024,) float32 signature of a face chip (s, s, 3) BGR, invariant to brightness and contrast."""
    grey = chip if chip.ndim == 2 else cv2.cvtColor(chip, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (SIGNATURE_SIZE, SIGNATURE_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    return ((small - small.mean()) / (small.std() + 1e-6)).ravel()


def duplicate_index(signature: np.ndarray, others: np.ndarray) -> int | None:
    """Index of the first of others (n, 1024) that is the same face image as signature, else None."""
    if len(others) == 0:
        return None
    diffs = np.abs(others - signature[None, :]).mean(axis=1)
    best = int(np.argmin(diffs))
    return best if diffs[best] <= DUPLICATE_MAX_DIFF else None
