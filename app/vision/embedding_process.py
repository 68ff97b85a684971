"""Face embeddings in a child process, so the camera loop keeps detecting and tracking on its own core.

A thread would not do: dlib holds the GIL while it embeds (measured: a pure-Python loop got 6% of its
speed while another thread embedded), so the loop would stall exactly as if it embedded itself.
One job at a time is in flight; the loop submits chips and collects vectors when they are ready.

The child is a plain `python embedding_process.py <fd> <kind>`, not a multiprocessing spawn: spawn
re-imports the parent's main module (run.py builds the whole Flask app at import) and `app/__init__`
(Flask, SQLAlchemy): seconds of start-up, under load most of a 12 s class (bench/RESULTS.md, issue 12).
The vision package needs neither (STYLE.md: no Flask in vision), so the child imports it bare.
"""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import types
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

VISION_DIR = Path(__file__).resolve().parent


def _bare_packages() -> None:
    """Make `app.vision.*` importable without running app/__init__.py (the web app)."""
    for name, folder in (("app", VISION_DIR.parent), ("app.vision", VISION_DIR)):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            sys.modules[name] = package


def _serve(conn: Connection, kind: str) -> None:
    """Child: load the extractor once, then embed (job, chips) messages until None or a closed pipe."""
    try:
        from app.vision.features import get_extractor

        extractor = get_extractor(kind)
        extractor.from_chips([np.zeros((192, 192, 3), np.uint8)])  # load the models now, not on the first face
        conn.send(("ready", None))
    except Exception as exc:  # noqa: BLE001  (reported to the parent, which falls back to embedding itself)
        conn.send(("failed", str(exc)))
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, chips = message
        start = time.perf_counter()
        try:
            conn.send((job, extractor.from_chips(chips), time.perf_counter() - start))
        except Exception as exc:  # noqa: BLE001
            conn.send((job, str(exc), time.perf_counter() - start))


class EmbeddingProcess:
    """A child process computing one feature kind's vectors; submit() and poll() never block for long."""

    def __init__(self, kind: str) -> None:
        parent, child = socket.socketpair()
        self.started = time.monotonic()
        self.ready_seconds: float | None = None  # start-up time, once ready
        # A fresh interpreter (not fork: the camera thread's locks and cv2 state must not be copied);
        # -P: the script's folder must not shadow the standard library (our types.py).
        self._proc = subprocess.Popen([sys.executable, "-P", str(Path(__file__).resolve()), str(child.fileno()), kind],
                                      pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
        child.close()
        self._conn = Connection(parent.detach())
        self.ready = False
        self.failed: str | None = None
        self.busy: Any = None  # the job in flight
        self.seconds = 0.0  # child time spent embedding, all jobs

    def submit(self, job: Any, chips: list[np.ndarray]) -> bool:
        """Send chips to embed; False if the child is not ready or still busy."""
        self.check()
        if not self.ready or self.busy is not None:
            return False
        self._conn.send((job, chips))
        self.busy = job
        return True

    def poll(self) -> tuple[Any, np.ndarray | None, float] | None:
        """(job, vectors (n, d) or None on an error, seconds) when the job in flight is done, else None."""
        self.check()
        if self.busy is None or not self._conn.poll():
            return None
        job, result, seconds = self._conn.recv()
        self.busy = None
        self.seconds += seconds
        if isinstance(result, str):
            log.warning("embedding process: %s", result)
            return job, None, seconds
        return job, result, seconds

    def check(self) -> None:
        """Read the child's start-up message (ready or failed) if it has arrived."""
        if self.ready or self.failed:
            return
        if self._conn.poll():
            try:
                status, detail = self._conn.recv()
            except (EOFError, OSError) as exc:
                self.failed = f"no start-up message ({exc})"
                return
            self.ready, self.failed = status == "ready", detail
            if self.ready:
                self.ready_seconds = time.monotonic() - self.started
                log.info("embedding process ready in %.1f s", self.ready_seconds)
        elif self._proc.poll() is not None:
            self.failed = f"exited with code {self._proc.returncode}"

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to end, then make sure it has."""
        try:
            self._conn.send(None)
        except (OSError, ValueError):
            pass
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            self._proc.wait(timeout)
        self._conn.close()


if __name__ == "__main__":
    _bare_packages()
    _serve(Connection(int(sys.argv[1])), sys.argv[2])
