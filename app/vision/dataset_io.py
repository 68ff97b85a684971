"""Reading face folders laid out as <root>/<identity>/<image> into crops."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .detector import FaceDetector
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
    """Detect (or, with no detector, take the whole image as the face) in every image; keeps the best face."""
    chips, identities, no_face, unreadable = [], [], [], []
    for identity, paths in list_identity_images(root).items():
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                unreadable.append(str(path))
                continue
            if detector is None:
                h, w = image.shape[:2]
                boxes = [FaceBox(0, 0, w, h, 1.0)]
            else:
                # Padded first: dataset images are often tight face crops (ORL); then the normal
                # pass for photos whose face is small (padding alone finds 16 of 46 on detect/).
                boxes = detector.detect_padded(image) or detector.detect(image)
                if not boxes:
                    no_face.append(str(path))
                    continue
            chips.append(face_chip(image, boxes[0]))
            identities.append(identity)
    array = np.stack(chips) if chips else np.empty((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
    return FaceFolder(array, identities, no_face, unreadable)
