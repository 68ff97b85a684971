"""The one owner of a process's background threads: starts them in order, stops them in reverse.

Which threads a process runs depends on its role:
- "web" without REDIS_URL (the embedded default, `make run`): recorder, job runner, mail sender,
  retention sweeper, and the camera workers started from the browser.
- "web" with REDIS_URL (a school): no jobs, mail or sweep (the job workers'), no cameras (the camera
  workers'), so a second web process adds no second sender, sweeper or camera.
- "worker" (`flask worker`): mail sender and retention sweeper next to the RQ work loop.
- "camera" (`flask camera-worker`): the recorder for the cameras that process runs.
Stop order (also on SIGTERM/SIGINT, see app/serving.py): cameras first, so their last events are on
the queue; then the recorder drains that queue; then the job runner finishes its current job; then mail
and the sweep. Nothing is left half-written by a normal shutdown.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from . import db

log = logging.getLogger(__name__)

# Seconds a SIGTERM waits for the recorder to write what is queued (systemd's default stop timeout is 90 s).
DRAIN_SECONDS = 30.0


@dataclass
class Background:
    """The threads start_background started; stop() ends them in order."""

    app: Flask
    recorder: Any = None
    sender: Any = None
    sweeper: Any = None
    jobs: bool = False
    stopped: list[str] = field(default_factory=list)

    def stop(self, timeout: float = DRAIN_SECONDS) -> None:
        """Stop cameras, drain the recorder, finish the current job, stop mail and the sweep."""
        from . import jobs
        from .attendance.camera_service import camera_service

        camera_service(self.app).stop_all(timeout)
        self.stopped.append("cameras")
        if self.recorder is not None:
            self.recorder.stop(timeout)
            if self.recorder.is_alive() or self.recorder.events.unfinished_tasks:
                log.error("shutdown: %d camera event(s) not written within %.0f s",
                          self.recorder.events.unfinished_tasks, timeout)
            self.stopped.append("recorder")
        if self.jobs:
            left = jobs.shutdown(self.app, timeout, finish_queued=False)
            if left:
                with self.app.app_context():
                    jobs.close_orphans(self.app)  # queued, never started: shown as interrupted at once
                    db.session.remove()
            self.stopped.append("jobs")
        for name in ("sender", "sweeper"):
            thread = getattr(self, name)
            if thread is not None:
                thread.stop(timeout)
                self.stopped.append(name)
        self.app.extensions.pop("background", None)


def start_background(app: Flask, force: bool = False, close_interrupted: bool = True,
                     sender: bool = True, role: str = "web", sweeper: bool = False) -> Background | None:
    """Start the role's threads (see the module docstring) after closing what a previous process left.

    Honours START_BACKGROUND unless force (the attend command needs its writer even in tests).
    Never called by create_app: only by app/serving.py and the attend, worker and camera-worker commands.
    """
    if not (force or app.config.get("START_BACKGROUND", True)):
        return None
    existing = app.extensions.get("background")
    if existing is not None:
        return existing
    from .jobs import uses_redis

    school = uses_redis(app)
    handle = Background(app)
    if role in ("web", "camera"):
        # In a school, sessions left running belong to the camera workers (resumed, not closed).
        _start_web(app, handle, close_interrupted and not school, jobs=role == "web" and not school)
    if sender and (role == "worker" or not school) and app.config.get("MAIL_ENABLED", True):
        from .notify import OutboxSender, release_stuck

        release_stuck(app)
        handle.sender = OutboxSender(app)
        handle.sender.start()
    if sweeper and (role == "worker" or not school):
        from .retention import RetentionSweeper

        # Orphans and expired snapshots/videos: swept now (after interrupted sessions were closed) and daily.
        handle.sweeper = RetentionSweeper(app)
        handle.sweeper.start()
    app.extensions["background"] = handle
    return handle


def _start_web(app: Flask, handle: Background, close_interrupted: bool, jobs: bool) -> None:
    """Close interrupted sessions (and, embedded, orphaned jobs); start the recorder and the job runner."""
    from . import job_runner
    from .attendance import service
    from .attendance.camera_service import camera_service
    from .attendance.recorder import Recorder
    from .jobs import close_orphans

    if close_interrupted:
        with app.app_context():
            closed = service.close_interrupted()
            orphans = close_orphans(app) if jobs else 0
            db.session.remove()
        if closed or orphans:
            log.info("closed %d attendance session(s) and %d job(s) a previous process left running",
                     closed, orphans)
    handle.recorder = Recorder(app, camera_service(app).events)
    handle.recorder.start()
    if jobs:
        job_runner.start(app)
        handle.jobs = True
