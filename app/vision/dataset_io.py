"""Reading face folders laid out as <root>/<identity>/<image> into crops."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .detector import FaceDetector
from .face_policy import candidate_faces, distinct_faces, subject_of
from .types import FaceBox
from .preprocess import CHIP_SIZE, face_chip

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class FaceFolder:
    """Chips (n, 192, 192, 3) uint8 with their identity names, and what could not be used."""

    chips: np.ndarray
    identities: list[str]
    no_face: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def list_identity_images(root: Path) -> dict[str, list[Path]]:
    """{identity: [image paths]} for every sub-folder of root holding images, sorted."""
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    result = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if images:
            result[sub.name] = images
    return result


def load_face_folder(root: Path, detector: FaceDetector | None) -> FaceFolder:
    """Detect (or, with no detector, take the whole image as the face) in every image; keeps the subject's face.

    no_face lists images with no face or no single subject (two or more comparable faces).
    """
    chips, identities, no_face, unreadable = [], [], [], []
    for identity, paths in list_identity_images(root).items():
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                unreadable.append(str(path))
                continue
            if detector is None:
                h, w = image.shape[:2]
                box: FaceBox | None = FaceBox(0, 0, w, h, 1.0)
            else:
                # The enrollment rule (face_policy): the photo pass, duplicates merged, the clear
                # subject taken; an image with two or more comparable faces has no single subject.
                box = subject_of(distinct_faces(candidate_faces(detector, image, still=True)), image.shape)
                if box is None:
                    no_face.append(str(path))
                    continue
            chips.append(face_chip(image, box))
            identities.append(identity)
    array = np.stack(chips) if chips else np.empty((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
    return FaceFolder(array, identities, no_face, unreadable)
