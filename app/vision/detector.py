"""Face detection with OpenCV's res10 SSD (Caffe) through cv2.dnn."""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from .types import FaceBox

log = logging.getLogger(__name__)

# BGR means the res10 SSD was trained with.
_MEAN = (104.0, 177.0, 123.0)


class DetectorError(RuntimeError):
    """The detector files are missing or unreadable."""


class FaceDetector:
    """Finds faces in BGR frames; boxes are clipped to the frame and sorted by confidence."""

    def __init__(
        self,
        prototxt: str | Path,
        weights: str | Path,
        min_confidence: float = 0.5,
        blob_size: tuple[int, int] = (300, 300),
        min_size: int = 8,
    ) -> None:
        for path in (prototxt, weights):
            if not Path(path).is_file():
                raise DetectorError(
                    f"detector file missing: {path} (run `make run` or `flask fetch-models`)"
                )
        try:
            self._net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
        except cv2.error as exc:
            raise DetectorError(f"cannot load detector from {weights}: {exc}") from exc
        self.min_confidence = min_confidence
        self.blob_size = blob_size
        self.min_size = min_size

    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        """Faces in one BGR (H, W, 3) or grey (H, W) frame, best first."""
        return self.detect_batch([frame])[0]

    def detect_batch(self, frames: list[np.ndarray]) -> list[list[FaceBox]]:
        """Faces in several frames with one network pass."""
        if not frames:
            return []
        bgr = [_as_bgr(f) for f in frames]
        blob = cv2.dnn.blobFromImages(bgr, 1.0, self.blob_size, _MEAN, swapRB=False, crop=False)
        self._net.setInput(blob)
        out = self._net.forward()  # (1, 1, N, 7): image_id, class, conf, x1, y1, x2, y2 (0..1)
        result: list[list[FaceBox]] = [[] for _ in frames]
        for row in out[0, 0]:
            conf = float(row[2])
            if conf < self.min_confidence:
                continue
            i = int(row[0])
            if not 0 <= i < len(frames):
                continue
            h, w = bgr[i].shape[:2]
            box = _clip_box(row[3:7], w, h, conf)
            if box is not None and min(box.width, box.height) >= self.min_size:
                result[i].append(box)
        for boxes in result:
            boxes.sort(key=lambda b: b.confidence, reverse=True)
        return [_drop_overlaps(boxes) for boxes in result]

    def detect_padded(self, image: np.ndarray, pad_fraction: float = 0.4) -> list[FaceBox]:
        """Faces in a still photo; pads it first so tight face crops are found (see FACTS)."""
        bgr = _as_bgr(image)
        h, w = bgr.shape[:2]
        py, px = int(round(h * pad_fraction)), int(round(w * pad_fraction))
        # A grey border, not replicated edges: replication smears the face and hurts detection.
        padded = cv2.copyMakeBorder(bgr, py, py, px, px, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        boxes = []
        for b in self.detect(padded):
            shifted = _clip_box(
                np.array([(b.x1 - px) / w, (b.y1 - py) / h, (b.x2 - px) / w, (b.y2 - py) / h]),
                w, h, b.confidence,
            )
            if shifted is not None and min(shifted.width, shifted.height) >= self.min_size:
                boxes.append(shifted)
        return boxes


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def _clip_box(rel: np.ndarray, w: int, h: int, conf: float) -> FaceBox | None:
    """Relative SSD coordinates to a pixel box inside the frame; None if nothing is left."""
    if not np.all(np.isfinite(rel)):
        return None
    x1 = int(np.clip(round(rel[0] * w), 0, w))
    y1 = int(np.clip(round(rel[1] * h), 0, h))
    x2 = int(np.clip(round(rel[2] * w), 0, w))
    y2 = int(np.clip(round(rel[3] * h), 0, h))
    if x2 <= x1 or y2 <= y1:
        return None
    return FaceBox(x1, y1, x2, y2, conf)


def _drop_overlaps(boxes: list[FaceBox], max_iou: float = 0.5) -> list[FaceBox]:
    """Keep the best of boxes that overlap a lot (the SSD sometimes reports one face twice)."""
    kept: list[FaceBox] = []
    for box in boxes:
        if all(box.iou(k) <= max_iou for k in kept):
            kept.append(box)
    return kept
