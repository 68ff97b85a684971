"""Enrollment: turn photos, video frames and folders into stored face chips + FaceSample rows."""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import cv2
import numpy as np

from .. import db
from ..models import FaceSample
from ..pipeline import thread_detector
from ..storage import Storage, storage
from ..vision.face_policy import Verdict, candidate_faces, draw_faces, judge
from ..vision.preprocess import face_chip
from ..vision.sources import VIDEO_EXTENSIONS
from .checks import DUPLICATE, DuplicateGuard, IdentityCheck
from .images import ImageError, decode_image

log = logging.getLogger(__name__)

# Sampling a video: about 3 frames a second gives varied poses without near-duplicates, and a cap
# keeps a long video from flooding the dataset (the recognizer needs ~8-20 per person).
VIDEO_FRAMES_PER_SECOND = 3.0
VIDEO_MAX_SAMPLED_FRAMES = 90
VIDEO_MAX_FACES = 30

Progress = Callable[[float, str], None]


class EnrollmentError(ValueError):
    """An upload cannot be used at all; the message is shown to the teacher."""


@dataclass
class EnrollResult:
    """Accepted face count, per rejected image or frame the reason, and faces kept but flagged for review."""

    accepted: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # (name, reason, JPEG thumbnail with the faces boxed) for refused photos the teacher may want to see.
    previews: list[tuple[str, str, bytes]] = field(default_factory=list)
    # (name, id of the student the recognizer named) for accepted faces kept out of training until confirmed.
    flagged: list[tuple[str, int]] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """How many rejections per reason (reason text without its details)."""
        return dict(Counter(reason.split(" (")[0] for _, reason in self.rejected))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form for a Job result."""
        return {"accepted": self.accepted, "rejected": self.rejected[:200], "reasons": self.reasons(),
                "flagged": len(self.flagged),
                "message": f"Accepted {self.accepted} face image{'s' if self.accepted != 1 else ''}; "
                           f"rejected {len(self.rejected)}."}


class _ChipWriter:
    """Writes chips for one student and removes them again if the batch is not committed."""

    def __init__(self, files: Storage, student_id: int) -> None:
        self.files = files
        self.student_id = student_id
        self.written: list[Path] = []

    def add(self, chip: np.ndarray, source: str, sharpness: float, brightness: float,
            looks_like_id: int | None = None) -> FaceSample:
        try:
            path = self.files.write_chip(self.student_id, chip)
        except ValueError as exc:
            raise EnrollmentError(str(exc)) from exc
        self.written.append(path)
        sample = FaceSample(student_id=self.student_id, filename=path.name, source=source,
                            sharpness=round(sharpness, 2), brightness=round(brightness, 2),
                            looks_like_id=looks_like_id)
        db.session.add(sample)
        return sample

    def commit(self) -> None:
        if not self.written:  # nothing to keep: leave a pending new student (bulk) uncommitted
            return
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            self.discard()
            raise

    def discard(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


def _enroll_frames(frames: Iterable[tuple[str, np.ndarray]], writer: _ChipWriter, source: str,
                   config: Mapping[str, Any], photo: bool, result: EnrollResult,
                   max_faces: int | None = None) -> None:
    """Gate each (label, image) with the face policy; keep accepted chips (flagged when another student's)."""
    detector = thread_detector(config)
    guard = DuplicateGuard(writer.files, writer.student_id) if photo else None
    kept: list[tuple[str, np.ndarray, float, float]] = []
    for label, image in frames:
        try:
            verdict = judge(image, candidate_faces(detector, image, still=photo))
        except (cv2.error, ValueError) as exc:  # one odd image must not cost the others their place
            log.warning("cannot analyse %s: %s", label, exc)
            result.rejected.append((label, "the image could not be analysed"))
            continue
        if not verdict.accepted:
            result.rejected.append((label, verdict.reason or ""))
            if photo and len(result.previews) < PREVIEW_LIMIT:
                result.previews.append((label, verdict.reason or "", _thumbnail(image, verdict)))
            continue
        chip = face_chip(image, verdict.box)
        if guard is not None and guard.is_duplicate(chip):
            result.rejected.append((label, DUPLICATE))
            continue
        kept.append((label, chip, verdict.sharpness, verdict.brightness))
        if max_faces is not None and len(kept) >= max_faces:
            break
    looks_like = IdentityCheck(writer.student_id, config).looks_like([chip for _, chip, _, _ in kept])
    for (label, chip, sharpness, brightness), other in zip(kept, looks_like):
        writer.add(chip, source, sharpness, brightness, looks_like_id=other)
        result.accepted += 1
        if other is not None:
            result.flagged.append((label, other))


PREVIEW_LIMIT = 20


def _thumbnail(image: np.ndarray, verdict: Verdict) -> bytes:
    """JPEG bytes of a small copy of a refused photo with its faces boxed."""
    ok, encoded = cv2.imencode(".jpg", draw_faces(image, verdict.faces, max_side=240), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return encoded.tobytes() if ok else b""


def enroll_photos(student_id: int, uploads: list[tuple[str, bytes]], config: Mapping[str, Any],
                  source: str = "photo") -> EnrollResult:
    """Gate and store each photo; unreadable, repeated or rejected photos are reported, the rest saved together."""
    result = EnrollResult()
    writer = _ChipWriter(storage(config), student_id)

    def decoded() -> Iterator[tuple[str, np.ndarray]]:
        seen: dict[str, str] = {}
        for name, data in uploads:
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                result.rejected.append((name, f"the same file as {seen[digest]}"))
                continue
            seen[digest] = name
            try:
                yield name, decode_image(data)
            except ImageError as exc:
                result.rejected.append((name, str(exc)))

    try:
        _enroll_frames(decoded(), writer, source, config, photo=True, result=result)
        writer.commit()
    except Exception:
        db.session.rollback()
        writer.discard()
        raise
    return result


def check_video(path: Path) -> None:
    """Refuse a file OpenCV cannot open or that yields no frame."""
    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
    finally:
        cap.release()
    if not ok or frame is None:
        raise EnrollmentError("the video cannot be read (corrupt, or a format this server cannot decode)")


def store_video(stream: Any, filename: str, upload_dir: str | Path) -> Path:
    """Save an uploaded video under a random name and check it by content; nothing is left on failure."""
    ext = Path(filename or "").suffix.lower().lstrip(".")
    # The name only picks the container hint OpenCV needs; the content check below decides.
    suffix = ext if f".{ext}" in VIDEO_EXTENSIONS else "mp4"
    path = Path(upload_dir) / f"{uuid.uuid4().hex}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    stream.save(str(path))
    try:
        if path.stat().st_size == 0:
            raise EnrollmentError("the video file is empty")
        check_video(path)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return path


def sample_video(path: Path) -> Iterator[tuple[int, int, np.ndarray]]:
    """(frame index, expected samples, frame) at about VIDEO_FRAMES_PER_SECOND, capped."""
    cap = cv2.VideoCapture(str(path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        step = max(1, int(round(fps / VIDEO_FRAMES_PER_SECOND)))
        expected = min(VIDEO_MAX_SAMPLED_FRAMES, max(1, total // step)) if total > 0 else VIDEO_MAX_SAMPLED_FRAMES
        index = sampled = 0
        while sampled < VIDEO_MAX_SAMPLED_FRAMES:
            ok, frame = cap.read()
            if not ok:
                return
            if index % step == 0:
                sampled += 1
                yield index, expected, frame
            index += 1
    finally:
        cap.release()


def enroll_video(student_id: int, path: Path, config: Mapping[str, Any],
                 progress: Progress | None = None) -> EnrollResult:
    """Sample frames, gate them and save all accepted faces together; the video file is removed after."""
    result = EnrollResult()
    writer = _ChipWriter(storage(config), student_id)

    def frames() -> Iterator[tuple[str, np.ndarray]]:
        for n, (index, expected, frame) in enumerate(sample_video(path)):
            if progress and n % 5 == 0:
                progress(min(0.95, n / expected), f"Looking for faces: frame {index} ({result.accepted} accepted)")
            yield f"frame {index}", frame

    try:
        _enroll_frames(frames(), writer, "video", config, photo=False, result=result, max_faces=VIDEO_MAX_FACES)
        if result.accepted == 0 and not result.rejected:
            raise EnrollmentError("the video has no readable frames")
        writer.commit()
    except Exception:
        db.session.rollback()
        writer.discard()
        raise
    finally:
        Path(path).unlink(missing_ok=True)
    return result


def enroll_image_files(student_id: int, files: list[Path], config: Mapping[str, Any]) -> EnrollResult:
    """Photos from disk (bulk import); unreadable files are reported like uploads."""
    uploads = []
    for path in files:
        try:
            uploads.append((path.name, path.read_bytes()))
        except OSError as exc:
            uploads.append((path.name, b""))
            log.warning("cannot read %s: %s", path, exc)
    return enroll_photos(student_id, uploads, config, source="bulk")


def store_chip(student_id: int, chip: np.ndarray, config: Mapping[str, Any], source: str = "review") -> FaceSample:
    """Store one face chip that is already cut (a camera snapshot a teacher identified) like an enrolled photo."""
    writer = _ChipWriter(storage(config), student_id)
    sample = writer.add(chip, source, 0.0, 0.0)
    writer.commit()  # commits the caller's pending changes with it; the file is removed if that fails
    return sample
