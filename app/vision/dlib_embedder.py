"""dlib face embeddings: 5-point alignment and the 128-d ResNet descriptor, from stored face chips.

dlib and the model files (PyPI `dlib-bin`, `face-recognition-models`, in requirements.txt): nothing here
imports dlib until an embedder is asked for, and `check_available()` says what is missing.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .preprocess import chip_box

log = logging.getLogger(__name__)

EMBEDDING_SIZE = 128
# dlib's alignment convention: the ResNet was trained on 150x150 chips with 25% padding.
ALIGNED_SIZE = 150
ALIGNED_PADDING = 0.25
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
# Shown to teachers: says what IT must install, never a pip command line.
INSTALL_HINT = ("ask IT to install the packages dlib-bin and face-recognition-models listed in requirements.txt "
                "(`make run` does it)")


class DlibUnavailable(RuntimeError):
    """dlib or its model files are not installed."""


def model_dir() -> Path:
    """Folder of the face_recognition_models package's .dat files.

    Found without importing the package: its __init__ uses pkg_resources, which newer setuptools
    deprecate (a warning, an error under pytest) or drop. The files are the same ones its
    pose_predictor_five_point_model_location() / face_recognition_model_location() return.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DlibUnavailable(f"the face-recognition-models package is not installed; {INSTALL_HINT}")
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    missing = [name for name in (SHAPE_MODEL, EMBEDDING_MODEL) if not (folder / name).is_file()]
    if missing:
        raise DlibUnavailable(f"dlib model files missing from {folder}: {', '.join(missing)}; {INSTALL_HINT}")
    return folder


def import_dlib() -> Any:
    """The dlib module, or DlibUnavailable with the install hint."""
    try:
        return importlib.import_module("dlib")
    except ImportError as exc:
        raise DlibUnavailable(f"dlib is not installed ({exc}); {INSTALL_HINT}") from exc


def check_available() -> None:
    """Raise DlibUnavailable unless dlib and both model files are present (cheap; no model load)."""
    import_dlib()
    model_dir()


class DlibEmbedder:
    """The two dlib models, loaded once; calls are serialised because dlib objects are not thread-safe."""

    def __init__(self) -> None:
        dlib = import_dlib()
        folder = model_dir()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(folder / SHAPE_MODEL))
        self._net = dlib.face_recognition_model_v1(str(folder / EMBEDDING_MODEL))
        self._lock = threading.Lock()

    def align(self, chip: np.ndarray) -> np.ndarray:
        """(150, 150, 3) RGB face aligned on its 5 landmarks, from a (s, s, 3) BGR chip."""
        rgb = _rgb(chip)
        box = chip_box(rgb.shape[0])
        rect = self._dlib.rectangle(int(box.x1), int(box.y1), int(box.x2), int(box.y2))
        with self._lock:
            shape = self._shape(rgb, rect)
            return self._dlib.get_face_chip(rgb, shape, size=ALIGNED_SIZE, padding=ALIGNED_PADDING)

    def embed(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, 128) float32 descriptors for face chips (one batch through the network)."""
        if not len(chips):
            return np.empty((0, EMBEDDING_SIZE), np.float32)
        aligned = [self.align(c) for c in chips]
        with self._lock:
            vectors = self._net.compute_face_descriptor(aligned)
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32).reshape(len(chips), EMBEDDING_SIZE)


_shared: DlibEmbedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> DlibEmbedder:
    """The process-wide embedder; the models load on first use (about a second, 30 MB)."""
    global _shared
    check_available()
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = DlibEmbedder()
                log.info("dlib face models loaded from %s", model_dir())
    return _shared


def _rgb(chip: np.ndarray) -> np.ndarray:
    """Contiguous RGB uint8 copy of a BGR or grey chip (dlib reads RGB)."""
    chip = np.asarray(chip, dtype=np.uint8)
    if chip.ndim == 2:
        return np.ascontiguousarray(np.repeat(chip[:, :, None], 3, axis=2))
    return np.ascontiguousarray(chip[:, :, 2::-1])
