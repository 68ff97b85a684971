"""CameraWorker: source -> detector -> chips -> extractor -> recognizer -> tracker -> events + latest JPEG."""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from threadpoolctl import ThreadpoolController

from .detector import FaceDetector
from .appearance import SAME_STRANGER, SAME_TRACK
from .events import Finished, Marked, StatusChanged, UnknownSeen
from .features import FeatureExtractor
from .live_detection import LiveDetection
from .live_recognition import LiveRecognition, votes_needed
from .live_view import draw_tracks
from .recognizer import Recognizer
from .recognizer_watch import RecognizerWatch
from .sources import FrameSource, SourceError
from .strangers import SAME_SEAT_IOU, Strangers
from .tracker import KNOWN, UNKNOWN, Decision, Tracker, unknown_rule

log = logging.getLogger(__name__)

# The live view is encoded at most this often, and only while someone watched recently.
STREAM_FPS = 15.0
VIEWER_IDLE_SECONDS = 5.0


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
        confirm, unknown = votes_needed(settings.view, extractor, settings.confirm_frames, settings.unknown_frames)
        self.tracker = Tracker(confirm, settings.confirm_window_seconds, recheck_seconds=settings.recheck_seconds,
                               same_face=SAME_TRACK.get(kind), **unknown_rule(kind, unknown))
        self.strangers = Strangers(SAME_STRANGER.get(kind), SAME_SEAT_IOU if settings.view == "classroom" else None)
        self.stop_event = threading.Event()
        # Set as run() returns; waiting on it survives a Ctrl-C that breaks Thread.join's bookkeeping.
        self.done = threading.Event()
        self._lock = threading.Condition()
        self._jpeg: bytes | None = None
        self._jpeg_seq = 0
        self._viewer_at = self._last_jpeg = 0.0
        self.status, self.message = "starting", ""
        self.frames = self.frames_analysed = self.errors = self.dropped_events = 0
        self.fps = self.cpu_seconds = 0.0
        self.marks: list[Marked] = []
        self.unknowns = 0
        self.first_frame_t: float | None = None
        self.first_mark_t: float | None = None
        self.started_at = self.ended_at = 0.0
        self.watch = RecognizerWatch(settings.recognizer_path, extractor.dimension, settings.session_id)
        self.detection = LiveDetection(settings.view, settings.detect_every, source)
        self.recognition = LiveRecognition(extractor, settings.recognition_budget_ms, settings.embed_process,
                                           settings.min_face_px)

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
        start, cpu = time.perf_counter(), time.process_time()
        self.frames += 1
        if self.first_frame_t is None:
            self.first_frame_t = t
        detected = self.detection.due(t)
        if detected:
            self.frames_analysed += 1
            self.detection.step(detector, frame, t, self.tracker)
        # Tracks seen in the last full detection cycle have a usable box on this frame; the budget
        # decides how many of them are recognised now (the rest wait for a later frame).
        decisions = self.recognition.step(frame, t, self.tracker, self.detection.fresh_since(t), self.recognizer, blas)
        for decision in decisions:
            self._emit(decision, t)
        self._publish(frame)
        self.detection.note_cost(detected, time.perf_counter() - start)
        # Process CPU (the detector's own threads included): what the frame costs whatever the machine's load.
        self.cpu_seconds += time.process_time() - cpu
        elapsed = time.monotonic() - self.started_at
        self.fps = self.frames / elapsed if elapsed > 0 else 0.0

    def detect_every(self) -> int:
        """The detection rate in use: 1 = every frame."""
        return self.detection.every()

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
            stranger, new = self.strangers.assign(decision.feature, decision.box)
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
        """Pick up the recognizer version the camera service said is current (RecognizerWatch.use)."""
        newer = self.watch.newer()
        if newer is not None:
            self.recognizer, self.settings.recognizer_path = newer, self.watch.path

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
            "detect_every": self.detect_every(),
            "cpu_ms_per_frame": round(1000 * self.cpu_seconds / self.frames, 1) if self.frames else None,
            **self._view_stats(),
        }

    def _view_stats(self) -> dict[str, Any]:
        """Faces in view, decided; recognition work and where it ran."""
        tracks = list(self.tracker.tracks.values())
        return {"view": self.settings.view, "faces_in_view": len(tracks),
                "decided": sum(1 for tr in tracks if tr.state in (KNOWN, UNKNOWN)), **self.recognition.stats(tracks)}


def _encode(frame: np.ndarray) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 75])
    return buf.tobytes() if ok else None
