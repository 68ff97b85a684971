"""The single writer thread: turns camera events into rows, each in its own short transaction."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from flask import Flask

from .. import db
from ..storage import storage
from ..vision.events import Finished, Marked, StatusChanged, UnknownSeen
from . import service

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000


class Recorder(threading.Thread):
    """Consumes the workers' event queue with the real app's context; a bad event is logged and skipped."""

    def __init__(self, app: Flask, events: "queue.Queue[Any]") -> None:
        super().__init__(name="attendance-recorder", daemon=True)
        self.app, self.events = app, events
        self.stop_event = threading.Event()
        self.handled = self.failed = 0
        # Sessions a camera-worker process released or lost to another worker (app/attendance/camera_process.py).
        self.handed_over: set[int] = set()

    def run(self) -> None:
        """Write events until stopped, then drain what is left."""
        while not (self.stop_event.is_set() and self.events.empty()):
            try:
                event = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                with self.app.app_context():
                    try:
                        self.handle(event)
                        self.handled += 1
                    except Exception:  # noqa: BLE001  (one bad event must not stop the writer)
                        self.failed += 1
                        db.session.rollback()
                        log.exception("recording %s failed", type(event).__name__)
                    finally:
                        db.session.remove()
            finally:
                self.events.task_done()

    def handle(self, event: Any) -> None:
        """Write one event (also used directly by tests)."""
        config = self.app.config
        files = storage(config)
        if isinstance(event, Marked):
            rel = files.save_snapshot(event.session_id, f"student_{event.student_id}", event.snapshot)
            if service.mark_present(event.session_id, event.student_id, event.score, event.first_seen, rel,
                                    review_reason=event.review_reason):
                log.info("session %s: student %s marked present", event.session_id, event.student_id)
        elif isinstance(event, UnknownSeen):
            rel = files.save_snapshot(event.session_id, f"unknown_{event.track_id}", event.snapshot)
            full = str(files.snapshot_dir / rel) if rel else None
            service.record_unknown(event.session_id, event.track_id, event.score, event.seen_at, rel, full,
                                   email=event.email, stranger=event.stranger, new_stranger=event.new_stranger,
                                   max_emails=int(config["CAMERA_UNKNOWN_MAX_EMAILS"]))
        elif isinstance(event, StatusChanged):
            service.note_status(event.session_id, f"camera {event.status}: {event.message}".strip(": "))
        elif isinstance(event, Finished):
            if event.session_id in self.handed_over:
                return  # a camera-worker process gave the session to another worker: it is not over
            service.end_session(event.session_id, event.status, event.message, event.frames, event.frames_analysed)
        else:
            log.warning("unknown event %r", event)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event is written; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.events.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.events.unfinished_tasks

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queue and end the thread."""
        self.stop_event.set()
        self.join(timeout)
