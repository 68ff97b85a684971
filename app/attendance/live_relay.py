"""The live page across processes: camera workers publish the latest JPEG and counters in Redis,
any web process reads them back through RemoteCamera (the three calls the routes make on a worker).

Frames are published only while someone watches (a viewer key the web sets, expiring in seconds), so a
room nobody looks at costs no JPEG encoding; counters are published always (the status poll).
"""
from __future__ import annotations

import json
import time
from typing import Any

from flask import Flask

from ..job_queue import connection

FRAME_TTL = 10  # seconds a published frame or counter outlives its publisher (a killed worker's page ends)
VIEWER_TTL = 5
FINAL_TTL = 120  # counters of a finished session, for the page that asks just after
POLL_SECONDS = 0.05


def _key(app: Flask, session_id: int, what: str) -> str:
    return f"{app.config.get('REDIS_QUEUE', 'rollcall')}:live:{session_id}:{what}"


class Publisher:
    """Used by a camera-worker process: copies each local worker's frame and counters to Redis."""

    def __init__(self, app: Flask) -> None:
        self.app, self.redis = app, connection(app)
        self._seq: dict[int, int] = {}

    def publish(self, session_id: int, worker: Any) -> None:
        """One round for one worker: counters always, the frame only when new and watched."""
        pipe = self.redis.pipeline()
        alive = worker.is_alive()
        stats = {**worker.stats(), "alive": alive}
        pipe.set(_key(self.app, session_id, "stats"), json.dumps(stats), ex=FRAME_TTL if alive else FINAL_TTL)
        if alive and self.redis.exists(_key(self.app, session_id, "viewer")):
            jpeg, seq = worker.latest_jpeg(self._seq.get(session_id, 0), timeout=0)
            if jpeg is not None and seq != self._seq.get(session_id):
                self._seq[session_id] = seq
                pipe.set(_key(self.app, session_id, "jpeg"), jpeg, ex=FRAME_TTL)
                pipe.set(_key(self.app, session_id, "seq"), seq, ex=FRAME_TTL)
        pipe.execute()

    def forget(self, session_id: int) -> None:
        """Drop a session this process no longer runs (another worker publishes it now)."""
        self._seq.pop(session_id, None)


class RemoteCamera:
    """A session's camera running in another process, as the web routes see a local CameraWorker."""

    def __init__(self, app: Flask, session_id: int) -> None:
        self.app, self.session_id, self.redis = app, session_id, connection(app)

    @classmethod
    def find(cls, app: Flask, session_id: int) -> "RemoteCamera | None":
        """The session's camera if some worker process publishes it."""
        camera = cls(app, session_id)
        return camera if camera.redis.exists(_key(app, session_id, "stats")) else None

    def stats(self) -> dict[str, Any]:
        """The counters the worker published last ({} once they expired)."""
        raw = self.redis.get(_key(self.app, self.session_id, "stats"))
        return json.loads(raw) if raw else {}

    def is_alive(self) -> bool:
        """Whether a worker is running the session and published within FRAME_TTL seconds."""
        return bool(self.stats().get("alive"))

    def latest_jpeg(self, after_seq: int = 0, timeout: float = 1.0) -> tuple[bytes | None, int]:
        """The newest frame newer than after_seq (waits up to timeout); tells the worker someone watches."""
        self.redis.set(_key(self.app, self.session_id, "viewer"), 1, ex=VIEWER_TTL)
        end = time.monotonic() + timeout
        while True:
            jpeg, seq = self.redis.mget(_key(self.app, self.session_id, "jpeg"), _key(self.app, self.session_id, "seq"))
            seq = int(seq or 0)
            if (jpeg is not None and seq != after_seq) or time.monotonic() >= end:
                return jpeg, seq
            time.sleep(POLL_SECONDS)
