"""`flask camera-worker`: a process that claims attendance sessions, runs their CameraWorkers and heartbeats.

Web processes only create the session row (after checking it can run); a camera-worker claims it
(app/attendance/leases.py), runs the same CameraWorker as `make run` does with its own recorder
writing the marks, publishes frames and counters for the live page (app/attendance/live_relay.py),
and heartbeats. Stop in the browser sets the row's stop_requested, seen at the next heartbeat.
SIGTERM releases every session at once (another worker resumes them); SIGKILL or a lost host lets the
lease expire, and another worker resumes the session within LEASE_SECONDS plus one poll.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .. import db
from . import leases, service
from .camera_service import camera_service
from .live_relay import Publisher
from .service import AttendanceError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # publish frames and look for new sessions this often
CLAIM_EVERY = 1.0


class CameraProcess:
    """The loop of one camera-worker process (at most max_sessions cameras at once)."""

    def __init__(self, app: Flask, max_sessions: int = 4, prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.max_sessions, self.prefixes = app, max_sessions, prefixes
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.stop_event = threading.Event()
        self.sessions: list[int] = []
        self.publisher = Publisher(app)
        self.cameras = camera_service(app)

    def run(self) -> None:
        """Claim, run, heartbeat and publish until stop_event; then hand every session back."""
        from ..background import start_background

        background = start_background(self.app, force=True, role="camera")
        log.info("camera worker %s: up to %d session(s)%s", self.worker_id, self.max_sessions,
                 f" on {', '.join(self.prefixes)}" if self.prefixes else "")
        next_claim = next_beat = 0.0
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                if now >= next_beat:
                    self._guarded(self._heartbeat, background)
                    next_beat = now + leases.HEARTBEAT_SECONDS
                if now >= next_claim and len(self.sessions) < self.max_sessions:
                    self._guarded(self._claim)
                    next_claim = now + CLAIM_EVERY
                for session_id in list(self.sessions):
                    worker = self.cameras.worker(session_id)
                    if worker is not None:
                        self._guarded(self.publisher.publish, session_id, worker)
                self.stop_event.wait(POLL_SECONDS)
        finally:
            self._hand_back(background)

    def _guarded(self, step: Any, *args: Any) -> None:
        """One failed round (database restart, Redis blip) is logged; the next round tries again."""
        try:
            with self.app.app_context():
                step(*args)
                db.session.remove()
        except Exception:  # noqa: BLE001
            log.exception("camera worker %s: %s failed", self.worker_id, getattr(step, "__name__", step))

    def _claim(self) -> None:
        session_id = leases.claim_next(self.worker_id, self.prefixes)
        if session_id is None:
            return
        try:
            self.cameras.resume(session_id)
        except AttendanceError as exc:  # the recognizer was removed, the camera file is gone ...
            service.end_session(session_id, "failed", f"camera worker could not start: {exc}")
            return
        self.sessions.append(session_id)
        log.info("camera worker %s: running session %s", self.worker_id, session_id)

    def _heartbeat(self, background: Any) -> None:
        for lease in leases.heartbeat(self.worker_id, list(self.sessions)):
            worker = self.cameras.worker(lease.session_id)
            if lease.keep and worker is not None and worker.is_alive():
                continue
            if lease.lost:  # presumed dead by the others: the session goes on elsewhere
                background.recorder.handed_over.add(lease.session_id)
            if worker is not None:
                worker.stop(10.0)  # Stop pressed, or the video ended: its Finished event closes the session
                self.publisher.publish(lease.session_id, worker)  # the final counters for the page
            self.sessions.remove(lease.session_id)
            self.publisher.forget(lease.session_id)

    def _hand_back(self, background: Any) -> None:
        """Stop local cameras without ending their sessions, write what they queued, release the leases."""
        running = [sid for sid in self.sessions if (w := self.cameras.worker(sid)) is not None and w.is_alive()]
        if background is not None:
            # Only running sessions are handed over: one that ended (its video did) keeps its Finished event.
            background.recorder.handed_over.update(running)
            background.stop()  # cameras, then the recorder drains
        with self.app.app_context():
            leases.release(self.worker_id, running)
            db.session.remove()
        log.info("camera worker %s: released %d session(s)", self.worker_id, len(running))


@click.command("camera-worker")
@click.option("--max-sessions", default=4, show_default=True, help="Cameras this process runs at once.")
@click.option("--source-prefix", "prefixes", multiple=True,
              help="Claim only sessions whose source starts with this (the cameras this host reaches).")
@with_appcontext
def camera_worker_command(max_sessions: int, prefixes: tuple[str, ...]) -> None:
    """Run attendance cameras for a school (needs REDIS_URL; without it cameras run in the web process)."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.UsageError("REDIS_URL is not set: cameras run inside the web process (`make run`)")
    from ..serving import configure_logging

    configure_logging(app)
    process = CameraProcess(app, max_sessions, prefixes)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("%s received: handing sessions back", signal.Signals(signum).name)
        process.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    process.run()


COMMANDS = [camera_worker_command]
