"""Background threads of a serving process: the attendance recorder and the outbox sender."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask

from . import db

log = logging.getLogger(__name__)


@dataclass
class Background:
    """The threads start_background started; stop() ends them (workers first, so their events get written)."""

    app: Flask
    recorder: object | None = None
    sender: object | None = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cameras, let the recorder drain, stop the sender."""
        from .attendance.camera_service import camera_service

        camera_service(self.app).stop_all(timeout)
        for thread in (self.recorder, self.sender):
            if thread is not None:
                thread.stop(timeout)
        self.app.extensions.pop("background", None)


def start_background(app: Flask, force: bool = False, close_interrupted: bool = True,
                     sender: bool = True) -> Background | None:
    """Close sessions a previous process left running, then start the recorder and (mail on) the sender.

    Honours START_BACKGROUND unless force (the attend command needs its writer even in tests).
    Never called by create_app: only by run.py and `flask attend`.
    """
    if not (force or app.config.get("START_BACKGROUND", True)):
        return None
    existing = app.extensions.get("background")
    if existing is not None:
        return existing
    from .attendance import service
    from .attendance.camera_service import camera_service
    from .attendance.recorder import Recorder
    from .notify import OutboxSender, release_stuck

    if close_interrupted:
        with app.app_context():
            closed = service.close_interrupted()
            db.session.remove()
        if closed:
            log.info("closed %d attendance session(s) left running as interrupted", closed)
    handle = Background(app)
    handle.recorder = Recorder(app, camera_service(app).events)
    handle.recorder.start()
    if sender and app.config.get("MAIL_ENABLED", True):
        release_stuck(app)
        handle.sender = OutboxSender(app)
        handle.sender.start()
    app.extensions["background"] = handle
    return handle
