"""A served Rollcall process for shutdown tests: `python -m tests.serve_harness PORT SESSION STUDENT...`.

The app comes from the JSON overrides in ROLLCALL_HARNESS_CONFIG and is served by app.serving.serve,
the code run.py runs. On a "go" line on stdin it puts one Marked event per student on the recorder's
queue (standing in for a camera worker) and prints "queued"; the test then sends SIGTERM.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
from datetime import datetime, timezone

from app import create_app
from app.attendance.camera_service import camera_service
from app.serving import serve
from app.vision.events import Marked
from config import Config


def _feed(app, session_id: int, students: list[int]) -> None:
    sys.stdin.readline()
    events = camera_service(app).events
    now = datetime.now(timezone.utc)
    for track, student in enumerate(students):
        events.put(Marked(session_id=session_id, student_id=student, score=0.9, first_seen=now, snapshot=None,
                          track_id=track, delay_seconds=0.5))
    print("queued", flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    port, session_id, *students = (int(a) for a in sys.argv[1:])
    application = create_app(Config, json.loads(os.environ["ROLLCALL_HARNESS_CONFIG"]))
    threading.Thread(target=_feed, args=(application, session_id, students), daemon=True).start()
    print("ready", flush=True)
    serve(application, "127.0.0.1", port, threads=4)
