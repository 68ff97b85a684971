"""CameraWorker: source -> detector -> chips -> extractor -> recognizer -> tracker -> events + latest JPEG."""
from __future__ import annotations

import logging
import math
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from threadpoolctl import ThreadpoolController

from .detection_schedule import DetectionSchedule
from .detector import FaceDetector
from .appearance import SAME_STRANGER, SAME_TRACK
from .events import Finished, Marked, StatusChanged, UnknownSeen
from .features import FeatureExtractor
from .live_recognition import LiveRecognition
from .live_view import draw_tracks
from .recognizer import Recognizer, RecognizerError
from .sources import FrameSource, SourceError
from .strangers import Strangers
from .tracker import KNOWN, UNKNOWN, Decision, Track, Tracker, unknown_rule

log = logging.getLogger(__name__)

# The live view is encoded at most this often, and only while someone watched recently.
STREAM_FPS = 15.0
VIEWER_IDLE_SECONDS = 5.0
RELOAD_CHECK_SECONDS = 2.0
MAX_DETECT_EVERY = 4


@dataclass
class WorkerSettings:
    """Plain values the worker needs (no ORM objects, no Flask)."""

    session_id: int
    names: dict[int, str] = field(default_factory=dict)  # label -> name drawn on the live view
    confirm_frames: int = 3
    confirm_window_seconds: float = 2.0
    unknown_frames: int = 5
    recheck_seconds: float = 0.25  # a decided face is recognised again this often (and on any change)
    detect_every: int = 0  # 0 = adapt to the camera's frame rate
    retry_max_seconds: float = 30.0
    email_unknown: bool = True
    recognizer_path: Path | None = None  # watched for a retrained version
    view: str = "doorway"  # detection_schedule.VIEWS: whole frame each detection, or one region in turn
    recognition_budget_ms: float = 0.0  # average recognition time per frame; 0 = recognise every wanted face
    embed_process: bool = False  # costly features (dlib) embedded in a child process on the other core
    min_face_px: int = 0  # smaller faces are tracked and shown but not judged


class CameraWorker(threading.Thread):
    """One camera loop; every iteration is guarded so one bad frame never kills the thread."""

    def __init__(self, source: FrameSource, detector_factory: Callable[[], FaceDetector],
                 extractor: FeatureExtractor, recognizer: Recognizer, settings: WorkerSettings,
                 events: "queue.Queue[Any]") -> None:
        super().__init__(name=f"camera-{settings.session_id}", daemon=True)
        self.source, self.detector_factory, self.extractor = source, detector_factory, extractor
        self.recognizer, self.settings, self.events = recognizer, settings, events
        kind = getattr(extractor, "name", "")
        self.tracker = Tracker(settings.confirm_frames, settings.confirm_window_seconds,
                               recheck_seconds=settings.recheck_seconds, same_face=SAME_TRACK.get(kind),
                               **unknown_rule(kind, settings.unknown_frames))
        self.strangers = Strangers(SAME_STRANGER.get(kind))
        self.stop_event = threading.Event()
        # Set as run() returns; waiting on it survives a Ctrl-C that breaks Thread.join's bookkeeping.
        self.done = threading.Event()
        self._lock = threading.Condition()
        self._jpeg: bytes | None = None
        self._jpeg_seq = 0
        self._viewer_at = self._last_jpeg = 0.0
        self.status, self.message = "starting", ""
        self.frames = self.frames_analysed = self.errors = self.dropped_events = 0
        self.fps = 0.0
        self.marks: list[Marked] = []
        self.unknowns = 0
        self.first_frame_t: float | None = None
        self.first_mark_t: float | None = None
        self.started_at = self.ended_at = 0.0
        self._detect_cost = self._base_cost = 0.0
        self._since_detect = 10**6
        self._recognizer_mtime = _mtime(settings.recognizer_path)
        self._next_reload_check = 0.0
        self._skipped_reload: tuple[Path, float] | None = None
        self.schedule = DetectionSchedule(settings.view)
        self.recognition = LiveRecognition(extractor, settings.recognition_budget_ms, settings.embed_process,
                                           settings.min_face_px)
        self._detections = 0
        self._cycle_times: list[float] = []  # times of the detections of the current schedule cycle
        self._detected_at: dict[int, float] = {}  # track id -> last time a detector box (not a carried one) matched it

    # ----- thread ----------------------------------------------------------------------------
    def run(self) -> None:
        """Loop until stopped, the recording ends, or the detector cannot load."""
        self.started_at = time.monotonic()
        final, message = "ended", ""
        try:
            detector = self.detector_factory()
            # The first forward pass of a cv2.dnn net is several times slower; keep it out of the timing.
            detector.detect(np.zeros((64, 64, 3), np.uint8))
            blas = ThreadpoolController()
            self.recognition.start()
            self._connect()
            while not self.stop_event.is_set():
                item = self._read()
                if item is None:
                    if not self.stop_event.is_set() and not self.source.live:
                        message = "the video ended"
                    break
                if item is False:
                    continue
                try:
                    self._process(detector, blas, *item)
                except Exception:  # noqa: BLE001  (one bad frame must not end the session)
                    self.errors += 1
                    log.exception("session %s: frame failed", self.settings.session_id)
                self._maybe_reload()
            if self.stop_event.is_set():
                message = message or "stopped"
        except Exception as exc:  # noqa: BLE001
            final, message = "failed", f"camera loop failed: {exc}"
            log.exception("session %s: camera loop failed", self.settings.session_id)
        finally:
            self.source.close()
            self.recognition.close()
            self.ended_at = time.monotonic()
            self._set_status(final, message)
            try:
                # The end must reach the writer (it closes the session), so this one put may wait a little.
                self.events.put(Finished(self.settings.session_id, final, message, self.frames,
                                         self.frames_analysed), timeout=5.0)
            except queue.Full:
                log.error("session %s: event queue full, the session end was not recorded", self.settings.session_id)
            with self._lock:
                self._lock.notify_all()
            self.done.set()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the loop to end and wait for it."""
        self.stop_event.set()
        if threading.current_thread() is not self and self.ident is not None:
            self.done.wait(timeout)
            self.join(1.0)

    def _connect(self) -> None:
        """Open a camera handed over unopened (here, off the request thread): connecting -> running/offline."""
        if getattr(self.source, "is_open", True):
            self._set_status("running", "")
            return
        self._set_status("connecting", f"connecting to {self.source.label}")
        try:
            self.source.open()
            self._set_status("running", "")
        except SourceError as exc:
            if not self.source.live:
                raise
            self._set_status("offline", str(exc))  # the first read fails too and retries with backoff

    def _read(self) -> tuple[np.ndarray, float] | None | bool:
        """A frame, None at the end, or False after a failed read (offline, retried with backoff)."""
        try:
            return self.source.read()
        except SourceError as exc:
            if not self.source.live:
                raise
            self._set_status("offline", str(exc))
        delay = 1.0
        while not self.stop_event.wait(delay):
            try:
                self.source.open()
                self._set_status("running", "camera back online")
                return False
            except SourceError as exc:
                self.message = str(exc)
                delay = min(delay * 2, self.settings.retry_max_seconds)
        return None

    # ----- one frame -------------------------------------------------------------------------
    def _process(self, detector: FaceDetector, blas: ThreadpoolController, frame: np.ndarray, t: float) -> None:
        start = time.perf_counter()
        self.frames += 1
        if self.first_frame_t is None:
            self.first_frame_t = t
        detected = self._should_detect()
        if detected:
            self.frames_analysed += 1
            self._since_detect = 0
            boxes = self.schedule.detect(detector, frame, self._detections)
            carried = self._carried(self.schedule.region(frame.shape, self._detections), frame.shape, t)
            tracks = self.tracker.update(boxes + [tr.box for tr in carried], t)
            self._detected_at = {tr.id: self._detected_at[tr.id] for tr in tracks if tr.id in self._detected_at}
            self._detected_at.update((tr.id, t) for tr in tracks[:len(boxes)])
            self._detections += 1
            cycle = self.schedule.cycle_length(frame.shape)
            self._cycle_times = (self._cycle_times + [t])[-cycle:]
        else:
            self._since_detect += 1
        # Tracks seen in the last full detection cycle have a usable box on this frame; the budget
        # decides how many of them are recognised now (the rest wait for a later frame).
        fresh_since = self._cycle_times[0] if self._cycle_times else t
        for decision in self.recognition.step(frame, t, self.tracker, fresh_since, self.recognizer, blas):
            self._emit(decision, t)
        self._publish(frame)
        cost = time.perf_counter() - start
        if detected:
            self._detect_cost = _ema(self._detect_cost, cost)
        else:
            self._base_cost = _ema(self._base_cost, cost)
        elapsed = time.monotonic() - self.started_at
        self.fps = self.frames / elapsed if elapsed > 0 else 0.0

    def _carried(self, region: tuple[int, int, int, int] | None, shape: tuple[int, ...], t: float) -> list[Track]:
        """Tracks outside the region looked at now whose own region found them within the last cycle.

        The tracker drops a track unseen for max_age (0.7 s), less than a rotation takes when detection
        runs on every 4th frame; carrying their boxes keeps a seated class's tracks (and votes) alive
        until their own region is looked at again. A face that left is not found there and expires.
        """
        if region is None:
            return []
        x, y, w, h = region
        full_cycle = len(self._cycle_times) >= self.schedule.cycle_length(shape)
        since = self._cycle_times[0] if full_cycle else float("-inf")
        return [tr for tr in self.tracker.tracks.values()
                if not (x <= (tr.box.x1 + tr.box.x2) / 2 < x + w and y <= (tr.box.y1 + tr.box.y2) / 2 < y + h)
                and self._detected_at.get(tr.id, float("-inf")) >= since
                and t - tr.last_seen <= self.tracker.max_age_seconds]

    def _should_detect(self) -> bool:
        """Detect on every frame if the loop keeps up, otherwise on every n-th (tracks hold in between)."""
        every = self.settings.detect_every or self.detect_every()
        return self._since_detect + 1 >= every

    def detect_every(self) -> int:
        """Smallest n with detect + (n-1) plain frames fitting in n frame intervals of the source."""
        # 15% headroom: the costs are averages and the machine is shared.
        budget = 0.85 / max(1.0, float(getattr(self.source, "fps", 30.0) or 30.0))
        if self._detect_cost <= budget:
            return 1
        spare = budget - self._base_cost
        # Past 1 in 4 the loop cannot keep up anyway (a starved CPU): then detections, which mark
        # students, matter more than frames, which the source drops.
        if spare <= 0:
            return MAX_DETECT_EVERY
        return max(1, min(MAX_DETECT_EVERY, math.ceil((self._detect_cost - self._base_cost) / spare)))

    def _emit(self, decision: Decision, t: float) -> None:
        seen = datetime.now(timezone.utc) - timedelta(seconds=max(0.0, t - decision.first_seen))
        if decision.state == KNOWN and decision.label is not None:
            event = Marked(self.settings.session_id, int(decision.label), decision.score, seen,
                           decision.snapshot, decision.track_id, t - decision.first_seen, t, decision.box,
                           decision.review_reason)
            if any(m.student_id == event.student_id for m in self.marks):
                return  # a second track of the same student: the first mark stands
            self.marks.append(event)
            if self.first_mark_t is None:
                self.first_mark_t = t
            self._put(event)
        elif decision.state == UNKNOWN:
            self.unknowns += 1
            # Tracks of one person (they left and came back, or a split) are one stranger, one alert.
            stranger, new = self.strangers.assign(decision.feature)
            self._put(UnknownSeen(self.settings.session_id, decision.track_id, decision.score,
                                  datetime.now(timezone.utc), decision.snapshot, self.settings.email_unknown,
                                  stranger, new, t, decision.box))

    def _put(self, event: Any) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:
            self.dropped_events += 1  # never block the camera on the writer
            log.warning("session %s: event queue full, dropped %s", self.settings.session_id, type(event).__name__)

    def _set_status(self, status: str, message: str) -> None:
        if status != self.status:
            log.info("session %s: camera %s %s", self.settings.session_id, status, message)
            self.status, self.message = status, message
            if status in ("running", "offline"):
                self._put(StatusChanged(self.settings.session_id, status, message))
        self.message = message

    def _maybe_reload(self) -> None:
        """Pick up a retrained recognizer written (atomically) over the watched file."""
        now = time.monotonic()
        path = self.settings.recognizer_path
        if path is None or now < self._next_reload_check:
            return
        self._next_reload_check = now + RELOAD_CHECK_SECONDS
        newest = newest_version(path)
        mtime = _mtime(newest)
        if mtime is None or (newest == path and mtime == self._recognizer_mtime):
            return
        if (newest, mtime) == self._skipped_reload:
            return
        try:
            candidate = Recognizer.load(newest)
            if candidate.n_features_in_ != self.extractor.dimension:
                # Retrained with other features (the course switched): keep the one that fits
                # this loop's extractor until the session is restarted.
                self._skipped_reload = (newest, mtime)
                log.warning("session %s: %s uses other features; restart the session to use it",
                            self.settings.session_id, newest.name)
                return
            self.recognizer = candidate
            self.settings.recognizer_path, self._recognizer_mtime = newest, mtime
            log.info("session %s: reloaded recognizer %s", self.settings.session_id, newest)
        except (RecognizerError, OSError, ValueError) as exc:
            log.warning("session %s: cannot reload recognizer yet: %s", self.settings.session_id, exc)

    # ----- live view -------------------------------------------------------------------------
    def _publish(self, frame: np.ndarray) -> None:
        now = time.monotonic()
        if now - self._viewer_at > VIEWER_IDLE_SECONDS or now - self._last_jpeg < 1.0 / STREAM_FPS:
            return
        self._last_jpeg = now
        # Draw and encode outside the lock; only the finished bytes are swapped in under it.
        jpeg = _encode(self.annotate(frame))
        with self._lock:
            self._jpeg, self._jpeg_seq = jpeg, self._jpeg_seq + 1
            self._lock.notify_all()

    def annotate(self, frame: np.ndarray) -> np.ndarray:
        """A copy of the frame with each live track's box and name, and how many faces are in view and decided."""
        return draw_tracks(frame, list(self.tracker.tracks.values()), self.settings.names,
                           self.recognition.too_small)

    def latest_jpeg(self, after_seq: int = 0, timeout: float = 1.0) -> tuple[bytes | None, int]:
        """The newest annotated JPEG newer than after_seq (waits up to timeout); marks a viewer."""
        self._viewer_at = time.monotonic()
        with self._lock:
            if self._jpeg_seq <= after_seq and self.is_alive():
                self._lock.wait(timeout)
            return self._jpeg, self._jpeg_seq

    def stats(self) -> dict[str, Any]:
        """Counters for the status page, the attend command and the benchmark."""
        delays = [m.delay_seconds for m in self.marks]
        first = None
        if self.first_mark_t is not None and self.first_frame_t is not None:
            first = round(self.first_mark_t - self.first_frame_t, 3)
        return {
            "status": self.status, "message": self.message, "frames": self.frames,
            "frames_analysed": self.frames_analysed, "fps": round(self.fps, 1), "errors": self.errors,
            "marked": [m.student_id for m in self.marks], "unknown": self.unknowns, "strangers": len(self.strangers),
            "track_splits": self.tracker.splits, "faces_seen": self.tracker.detections,
            "seconds_to_first_mark": first, "mark_delays": [round(d, 3) for d in delays],
            "dropped_frames": int(getattr(self.source, "dropped", 0)), "dropped_events": self.dropped_events,
            "detect_every": self.settings.detect_every or self.detect_every(),
            **self._view_stats(),
        }

    def _view_stats(self) -> dict[str, Any]:
        """Faces in view, decided, too small; recognition work and where it ran."""
        tracks = list(self.tracker.tracks.values())
        rec = self.recognition
        return {
            "view": self.settings.view, "faces_in_view": len(tracks),
            "decided": sum(1 for tr in tracks if tr.state in (KNOWN, UNKNOWN)),
            "too_small": sum(1 for tr in tracks if rec.too_small(tr)),
            "recognitions": rec.recognitions, "recognition_seconds": round(rec.seconds, 2),
            "embed_process": rec.child is not None and rec.child.ready,
            "frames_while_embedding": rec.frames_while_embedding,
        }


def _encode(frame: np.ndarray) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 75])
    return buf.tobytes() if ok else None


def _ema(old: float, new: float, alpha: float = 0.2) -> float:
    return new if old == 0.0 else (1 - alpha) * old + alpha * new


def newest_version(path: Path) -> Path:
    """The highest v<N>.joblib beside path whose JSON sidecar exists (save() writes the sidecar last)."""
    best, best_version = path, _version(path)
    if best_version is None:
        return path
    for candidate in path.parent.glob("v*.joblib"):
        version = _version(candidate)
        if version is not None and version > best_version and candidate.with_suffix(".json").is_file():
            best, best_version = candidate, version
    return best


def _version(path: Path) -> int | None:
    match = re.fullmatch(r"v(\d+)", path.stem)
    return int(match.group(1)) if match else None


def _mtime(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None
