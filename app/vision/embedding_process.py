"""Face embeddings in a child process, so the camera loop keeps detecting and tracking on its own core.

A thread would not do: dlib holds the GIL while it embeds (measured: a pure-Python loop got 6% of its
speed while another thread embedded), so the loop would stall exactly as if it embedded itself.
One job is in flight at a time. Two would keep the child busy between frames, but a job's chips
(~110 KB each) overflow the socket's buffer while the child embeds (dlib holds the GIL, so nothing in
the child reads meanwhile): the camera thread would block in send() for a whole job. Only the chips
travel; what the job is about stays with the parent.

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
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

VISION_DIR = Path(__file__).resolve().parent
MAX_JOBS = 1


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
        seq, chips = message
        start, cpu = time.perf_counter(), time.process_time()
        try:
            result: Any = extractor.from_chips(chips)
        except Exception as exc:  # noqa: BLE001
            result = str(exc)
        # CPU time beside wall time: on a loaded machine the wall time says more about the load than the work.
        conn.send((seq, result, time.perf_counter() - start, time.process_time() - cpu))


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
        self.jobs: deque[tuple[Any, int]] = deque()  # (job, faces) in flight, oldest first
        self._seq = 0
        self.seconds = self.cpu_seconds = 0.0  # child wall and CPU time spent embedding, all jobs
        self.faces = 0

    @property
    def busy(self) -> bool:
        """Whether the child has work."""
        return bool(self.jobs)

    def can_take(self) -> bool:
        """Whether submit() would accept a job now."""
        self.check()
        return self.ready and len(self.jobs) < MAX_JOBS

    def submit(self, job: Any, chips: list[np.ndarray]) -> bool:
        """Send chips to embed; False if the child is not ready or has MAX_JOBS already."""
        if not self.can_take():
            return False
        self._seq += 1
        self._conn.send((self._seq, chips))
        self.jobs.append((job, len(chips)))
        return True

    def poll(self) -> tuple[Any, np.ndarray | None, float] | None:
        """(job, vectors (n, d) or None on an error, seconds) of the oldest job once done, else None."""
        self.check()
        if not self.jobs or not self._conn.poll():
            return None
        _, result, seconds, cpu = self._conn.recv()  # answers come in submission order
        job, faces = self.jobs.popleft()
        self.faces += faces
        self.seconds += seconds
        self.cpu_seconds += cpu
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
