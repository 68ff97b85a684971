"""Caps on live-view (MJPEG) viewers: each holds a server thread while it watches."""
from __future__ import annotations

import threading
from collections import Counter
from typing import Callable


class ViewerLimits:
    """Counts open streams per session and per teacher; a viewer over either cap is refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: Counter[int] = Counter()
        self._teachers: Counter[int] = Counter()

    def acquire(self, session_id: int, teacher_id: int, per_session: int,
                per_teacher: int) -> Callable[[], None] | None:
        """A release function for a new viewer, or None when a cap is reached."""
        with self._lock:
            if self._sessions[session_id] >= per_session or self._teachers[teacher_id] >= per_teacher:
                return None
            self._sessions[session_id] += 1
            self._teachers[teacher_id] += 1
        released = threading.Event()

        def release() -> None:
            if released.is_set():
                return
            released.set()
            with self._lock:
                self._sessions[session_id] -= 1
                self._teachers[teacher_id] -= 1
                self._sessions += Counter()  # drop zero counts
                self._teachers += Counter()

        return release

    def open_streams(self, session_id: int) -> int:
        """Viewers of a session now (tests, status)."""
        with self._lock:
            return self._sessions[session_id]


def viewer_limits(extensions: dict) -> ViewerLimits:
    """The app's ViewerLimits (one per app, made on first use)."""
    return extensions.setdefault("attendance_viewers", ViewerLimits())
