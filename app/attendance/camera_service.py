"""Runs one CameraWorker per camera source; start refuses busy cameras and leaves nothing half-made."""
from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from .. import db
from ..models import AttendanceSession, Course
from ..pipeline import new_detector, recognizer_path
from ..vision.camera import CameraWorker, WorkerSettings
from ..vision.detection_schedule import VIEWS
from ..vision.detector import DetectorError
from ..vision.features import FeatureError, get_extractor
from ..vision.recognizer import Recognizer, RecognizerError
from ..vision.sources import SourceError, open_source, parse_source
from . import leases, service
from .live_relay import RemoteCamera
from .recorder import QUEUE_SIZE
from .service import AttendanceError
from .sources import UploadedVideo, uploaded_video

log = logging.getLogger(__name__)

KEEP_FINISHED = 8


class CameraService:
    """The app's running workers and the one event queue they share with the recorder."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.events: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_SIZE)
        self._lock = threading.Lock()
        self._workers: dict[int, CameraWorker] = {}
        self._sources: dict[str, int] = {}  # source key -> session id (or 0 while starting)

    def start(self, course_id: int, source_text: str, teacher_id: int | None = None, email: bool = True,
              view: str | None = None) -> int:
        """Open the camera, create the session and start its worker; returns the session id."""
        view = view or str(self.app.config["CAMERA_VIEW"])
        if view not in VIEWS:
            raise AttendanceError(f"unknown camera view {view!r}; choose one of {', '.join(VIEWS)}")
        course = service.course_for_start(course_id, teacher_id)
        try:
            kind, target = parse_source(source_text)
        except SourceError as exc:
            raise AttendanceError(str(exc)) from exc
        key = f"{kind}:{Path(str(target)).resolve() if kind == 'file' else target}"
        if self.remote:
            return self._start_remote(course, source_text, email, view)
        with self._lock:
            self._reap()
            if key in self._sources:
                # Not which file or session: the camera may be another teacher's.
                raise AttendanceError("this camera is already taking attendance in another session; "
                                      "stop that session first or choose another camera")
            self._sources[key] = 0
        try:
            return self._start(course, key, source_text, email, view)
        except BaseException:
            with self._lock:
                if self._sources.get(key) == 0:
                    del self._sources[key]
            raise

    @property
    def remote(self) -> bool:
        """Whether cameras run in `flask camera-worker` processes (a school: REDIS_URL set)."""
        return bool(self.app.config["REDIS_URL"])

    def _start_remote(self, course: Any, source_text: str, email: bool, view: str) -> int:
        """Check everything here (a bad start is refused at once), then leave the session to a camera worker."""
        if leases.running_on(source_text) is not None:
            raise AttendanceError("this camera is already taking attendance in another session; "
                                  "stop that session first or choose another camera")
        source, *_ = self._prepare(course, source_text, email, view)
        label = source.label
        source.close()
        return service.create_session(course.id, source_text, label, course.recognizer_version, view, email)

    def resume(self, session_id: int) -> int:
        """Run a session whose row exists (a camera worker claimed it); its source opens from the start."""
        session = db.session.get(AttendanceSession, session_id)
        course = service.course_for_start(session.course_id, None)
        view = session.camera_view or str(self.app.config["CAMERA_VIEW"])
        source, worker_args = self._prepare(course, session.source, session.email_unknown, view)
        return self._launch(f"session:{session_id}", session_id, source, *worker_args)

    def _start(self, course: Any, key: str, source_text: str, email: bool, view: str) -> int:
        source, (extractor, recognizer, settings, detector_config) = self._prepare(course, source_text, email, view)
        # Only now, with everything able to run, does the session row exist.
        try:
            session_id = service.create_session(course.id, source_text, source.label, course.recognizer_version)
        except Exception:
            source.close()
            raise
        return self._launch(key, session_id, source, extractor, recognizer, settings, detector_config)

    def _launch(self, key: str, session_id: int, source: Any, extractor: Any, recognizer: Recognizer,
                settings: WorkerSettings, detector_config: dict[str, Any]) -> int:
        settings.session_id = session_id
        worker = CameraWorker(source, lambda: new_detector(detector_config), extractor, recognizer, settings,
                              self.events)
        with self._lock:
            self._workers[session_id] = worker
            self._sources[key] = session_id
        worker.start()
        return session_id

    def _prepare(self, course: Any, source_text: str, email: bool, view: str) -> tuple[Any, tuple]:
        """Load the recognizer and detector and open the source: (source, (extractor, recognizer, settings, detector config))."""
        config = self.app.config
        path = recognizer_path(config, course.id, course.recognizer_version)
        try:
            # The features the recognizer in use was trained on: after a switch, the course's new
            # kind applies only once retraining has succeeded.
            summary = course.recognizer_summary or {}
            extractor = get_extractor(summary.get("features") or course.features or "pixels")
            # Vectors made by another pipeline version would be silently misread: "retrain needed".
            recognizer = Recognizer.load(path, feature_pipeline=extractor.pipeline)
            if recognizer.n_features_in_ != extractor.dimension:
                raise RecognizerError("the trained recognizer does not match the course's face features; "
                                      "train the course again")
            detector_config = camera_detector_config(config)
            new_detector(detector_config)  # fail here, with a message, rather than in the thread
            realtime = bool(config["CAMERA_VIDEO_REALTIME"])
            upload = uploaded_video(source_text, config)
            if upload is not None:
                source = UploadedVideo(str(upload), live=False, realtime=realtime)
                source.open()
            else:
                # Files open here (fast, and a bad file is refused at once); cameras and streams are
                # opened by the worker thread, so this request returns at once ("connecting").
                source = open_source(source_text, realtime=realtime,
                                     connect=parse_source(source_text)[0] == "file")
        except (RecognizerError, FeatureError, DetectorError, SourceError) as exc:
            raise AttendanceError(str(exc)) from exc
        settings = WorkerSettings(
            session_id=0,
            names={s.id: s.name for s in course.students},
            confirm_frames=int(config["CAMERA_CONFIRM_FRAMES"]),
            confirm_window_seconds=float(config["CAMERA_CONFIRM_WINDOW_SECONDS"]),
            unknown_frames=int(config["CAMERA_UNKNOWN_FRAMES"]),
            detect_every=int(config["CAMERA_DETECT_EVERY"]),
            retry_max_seconds=float(config["CAMERA_RETRY_MAX_SECONDS"]),
            email_unknown=email,
            recognizer_path=path,
            view=view,
            recognition_budget_ms=float(config["CAMERA_RECOGNITION_BUDGET_MS"]),
            embed_process=bool(config["CAMERA_EMBED_PROCESS"]),
            min_face_px=min_face_px(config, extractor.name),
        )
        return source, (extractor, recognizer, settings, detector_config)

    def follow_current_recognizers(self) -> None:
        """Tell each running worker the recognizer version its course uses now (the database decides).

        A worker loads a version only when told (a version saved but never committed is never current);
        called after training commits (embedded) and at each camera-worker heartbeat (a school).
        """
        with self._lock:
            running = {sid: w for sid, w in self._workers.items() if w.is_alive()}
        if not running:
            return
        rows = db.session.execute(
            select(AttendanceSession.id, Course.id, Course.recognizer_version)
            .join(Course, Course.id == AttendanceSession.course_id).where(AttendanceSession.id.in_(running))).all()
        for session_id, course_id, version in rows:
            if version is not None:  # no recognizer now (erased): the loaded one runs until the session ends
                running[session_id].watch.use(recognizer_path(self.app.config, course_id, version))

    def worker(self, session_id: int) -> CameraWorker | RemoteCamera | None:
        """The worker of a session, running or finished but not yet reaped (in a school: in any process)."""
        with self._lock:
            local = self._workers.get(session_id)
        if local is None and self.remote:
            return RemoteCamera.find(self.app, session_id)
        return local

    def stop(self, session_id: int, timeout: float = 10.0) -> dict[str, Any] | None:
        """Stop a session's worker and wait for it; returns its final counters (None if none ran)."""
        worker = self.worker(session_id)
        if isinstance(worker, RemoteCamera) or (worker is None and self.remote):
            return self._stop_remote(session_id)
        if worker is None:
            return None
        worker.stop(timeout)
        return worker.stats()

    def _stop_remote(self, session_id: int) -> dict[str, Any] | None:
        """Ask the camera worker holding the session to stop (through its row; it sees it within a heartbeat).

        Returns the counters published last; the caller closes the session now, the worker's own end
        event then only updates its frame counts.
        """
        leases.request_stop(session_id)
        return RemoteCamera(self.app, session_id).stats() or None

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every worker (shutdown, tests)."""
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.stop(timeout)

    def busy_sources(self) -> dict[str, int]:
        """Source keys in use and their session ids."""
        with self._lock:
            self._reap()
            return dict(self._sources)

    def _reap(self) -> None:
        """Forget finished workers' cameras (their stats stay readable until the next start)."""
        for key, session_id in list(self._sources.items()):
            worker = self._workers.get(session_id)
            if session_id and (worker is None or not worker.is_alive()):
                del self._sources[key]
        finished = [sid for sid, w in self._workers.items() if not w.is_alive()]
        for session_id in finished[:-KEEP_FINISHED]:
            del self._workers[session_id]  # a finished worker holds a recognizer and a frame


def camera_detector_config(config: Any) -> dict[str, Any]:
    """The app config with the live loop's own tile setting (tiles cost ~5x per frame; see bench/RESULTS.md)."""
    return {**config, "DETECTOR_TILES": int(config["CAMERA_DETECTOR_TILES"])}


# Pixel features judged from 50 px: held-out faces94/ORL photos shown 50-90 px wide are named as well as
# at 90 px with no wrong name and no stranger accepted, and the 50-90 px classroom marked 23/24 with every
# face judged against 15/24 from 70 px (bench/RESULTS.md "Issue 12, second pass"). dlib: from the 48 px floor.
PIXELS_MIN_FACE_PX = 50


def min_face_px(config: Any, features: str) -> int:
    """CAMERA_MIN_FACE_PX, or by feature kind when it is -1 (the default)."""
    value = int(config["CAMERA_MIN_FACE_PX"])
    if value >= 0:
        return value
    return PIXELS_MIN_FACE_PX if features == "pixels" else 0


def camera_service(app: Flask) -> CameraService:
    """The app's CameraService, made on first use."""
    service_ = app.extensions.get("attendance_cameras")
    if service_ is None:
        service_ = app.extensions.setdefault("attendance_cameras", CameraService(app))
    return service_
