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


# The SSD sometimes reports part of a big face (chin, cheek) as a second face; a box lying mostly
# inside another is that, not a second person.
NESTED_FRACTION = 0.5


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
        tiles: int = 1,
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
        # tiles=2 adds a 2x2 grid of overlapping tiles to the whole-frame pass: faces under
        # ~66 px in a 720p frame are invisible at a 300x300 blob (FACTS); tiles halve that size.
        # Larger blobs were tried instead and gave confident false boxes on portraits (bench).
        self.tiles = tiles

    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        """Faces in one BGR (H, W, 3) or grey (H, W) frame, best first (tiled if configured)."""
        if self.tiles < 2:
            return self.detect_batch([frame])[0]
        frame = _as_bgr(frame)
        h, w = frame.shape[:2]
        views, offsets = [frame], [(0, 0, w, h)]
        for x, y, tw, th in _tile_grid(w, h, self.tiles):
            views.append(frame[y:y + th, x:x + tw])
            offsets.append((x, y, tw, th))
        boxes = []
        for (x, y, tw, th), found in zip(offsets, self.detect_batch(views)):
            for b in found:
                # A face cut by an inner tile edge is whole in a neighbouring tile or the full pass.
                cut = (b.x1 == 0 and x > 0) or (b.y1 == 0 and y > 0) or \
                      (b.x2 == tw and x + tw < w) or (b.y2 == th and y + th < h)
                if not cut:
                    boxes.append(FaceBox(b.x1 + x, b.y1 + y, b.x2 + x, b.y2 + y, b.confidence))
        boxes.sort(key=lambda b: b.confidence, reverse=True)
        return _drop_overlaps(boxes, max_iou=0.3)

    def detect_photo(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in a still photo: the padded pass, plus other whole faces the normal pass finds.

        Padding finds tight face crops but shrinks the faces of a group photo below the SSD's reach
        (detect/010_2.jpg: 0 faces padded, 2 without), so a photo gets both passes, merged.
        """
        return merge_boxes(self.detect_padded(image), self.detect(image), image.shape)

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

    def detect_region(self, frame: np.ndarray, region: tuple[int, int, int, int] | None = None,
                      blob_size: tuple[int, int] | None = None) -> list[FaceBox]:
        """Faces inside region (x, y, w, h) of a frame at a given blob size, in frame coordinates.

        A box touching an edge of the region that is not the frame's edge is a face cut in two:
        dropped, because the schedule's overlapping regions hold it whole (see detection_schedule).
        """
        frame = _as_bgr(frame)
        fh, fw = frame.shape[:2]
        x, y, w, h = region or (0, 0, fw, fh)
        saved, self.blob_size = self.blob_size, blob_size or self.blob_size
        try:
            found = self.detect_batch([frame[y:y + h, x:x + w]])[0]
        finally:
            self.blob_size = saved
        return [FaceBox(b.x1 + x, b.y1 + y, b.x2 + x, b.y2 + y, b.confidence) for b in found
                if not ((b.x1 == 0 and x > 0) or (b.y1 == 0 and y > 0)
                        or (b.x2 == w and x + w < fw) or (b.y2 == h and y + h < fh))]

    def detect_padded(self, image: np.ndarray, pad_fraction: float = 0.4) -> list[FaceBox]:
        """Faces in a still photo; pads it first so tight face crops are found (see FACTS)."""
        bgr = _as_bgr(image)
        h, w = bgr.shape[:2]
        py, px = int(round(h * pad_fraction)), int(round(w * pad_fraction))
        # A grey border, not replicated edges: replication smears the face and hurts detection.
        padded = cv2.copyMakeBorder(bgr, py, py, px, px, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        boxes = []
        for b in self.detect_batch([padded])[0]:
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


def _tile_grid(w: int, h: int, n: int, overlap: float = 0.25) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of an n x n grid of tiles overlapping by `overlap` of a tile."""
    tw, th = int(w / (n - (n - 1) * overlap)), int(h / (n - (n - 1) * overlap))
    return [(int(j * (w - tw) / (n - 1)), int(i * (h - th) / (n - 1)), tw, th)
            for i in range(n) for j in range(n)]


def _nested(a: FaceBox, b: FaceBox) -> bool:
    """True when one box lies mostly inside the other (the SSD reporting part of a face)."""
    return max(a.inside_fraction(b), b.inside_fraction(a)) > NESTED_FRACTION


def _drop_overlaps(boxes: list[FaceBox], max_iou: float = 0.5) -> list[FaceBox]:
    """Keep the best of boxes that overlap a lot or sit mostly inside a better one (one face twice)."""
    kept: list[FaceBox] = []
    for box in boxes:
        if all(box.iou(k) <= max_iou and not _nested(box, k) for k in kept):
            kept.append(box)
    return kept


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
        if not on_edge and all(box.iou(m) <= max_iou and not _nested(box, m) for m in merged):
            merged.append(box)
    return merged
