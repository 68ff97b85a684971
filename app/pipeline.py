"""Builds vision objects from the app config, so callers never read config keys themselves."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping

from .storage import storage
from .vision.detector import FaceDetector
from .vision.recognizer import Recognizer

_detectors: dict[tuple, FaceDetector] = {}
_lock = threading.Lock()


def detector_paths(config: Mapping[str, Any]) -> tuple[Path, Path]:
    """(prototxt, caffemodel) paths from the config."""
    folder = Path(config["DETECTOR_DIR"])
    return folder / config["DETECTOR_PROTOTXT"], folder / config["DETECTOR_WEIGHTS"]


def _tiles(config: Mapping[str, Any]) -> dict[str, int]:
    """DETECTOR_TILES as a keyword; a partial config (scripts, tests) without it gets FaceDetector's own
    default (whole frame only), not a second copy of a default that Config owns."""
    return {"tiles": int(config["DETECTOR_TILES"])} if "DETECTOR_TILES" in config else {}


def new_detector(config: Mapping[str, Any]) -> FaceDetector:
    """A fresh detector (one per thread: a cv2.dnn net must not be shared between threads)."""
    prototxt, weights = detector_paths(config)
    return FaceDetector(prototxt, weights, min_confidence=float(config["DETECTOR_MIN_CONFIDENCE"]),
                        **_tiles(config))


def thread_detector(config: Mapping[str, Any]) -> FaceDetector:
    """The calling thread's own detector, loaded once per thread and settings."""
    prototxt, weights = detector_paths(config)
    key = (threading.get_ident(), str(prototxt), str(weights), float(config["DETECTOR_MIN_CONFIDENCE"]),
           config.get("DETECTOR_TILES"))
    with _lock:
        det = _detectors.get(key)
    if det is None:
        det = new_detector(config)
        with _lock:
            _detectors[key] = det
    return det


def recognizer_path(config: Mapping[str, Any], course_id: int, version: int) -> Path:
    """models/course_<id>/v<version>.joblib (app.storage owns the layout)."""
    return storage(config).recognizer_path(course_id, version)


def load_recognizer(config: Mapping[str, Any], course_id: int, version: int) -> Recognizer:
    """The trained recognizer of a course at a version."""
    return Recognizer.load(recognizer_path(config, course_id, version))
