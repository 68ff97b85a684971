"""Real face chips from ../shared/datasets for tests, detected once per process and cached."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from app.vision.dataset_io import load_face_folder
from app.vision.detector import FaceDetector
from tests.conftest import DATASETS, DETECTOR_DIR


@lru_cache(maxsize=1)
def detector() -> FaceDetector:
    return FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")


@lru_cache(maxsize=None)
def chips_of(dataset: str, detect: bool = True) -> tuple[np.ndarray, tuple[str, ...]]:
    """(chips (n, 192, 192, 3), identity per chip) for every image of a dataset folder.

    detect=False takes each whole image as the face box: right for ORL's tight crops when a test
    is about recognition, not detection, and ten times faster.
    """
    folder = load_face_folder(Path(DATASETS) / dataset, detector() if detect else None)
    return folder.chips, tuple(folder.identities)
