"""Face embeddings in a child process, so the camera loop keeps detecting and tracking on its own core.

A thread would not do: dlib holds the GIL while it embeds (measured: a pure-Python loop got 6% of its
speed while another thread embedded), so the loop would stall exactly as if it embedded itself.
One job at a time is in flight; the loop submits chips and collects vectors when they are ready.
"""
from __future__ import annotations

import logging
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def _serve(conn: Connection, kind: str) -> None:
    """Child: load the extractor once, then embed (job, chips) messages until None or a closed pipe."""
    from .features import get_extractor

    try:
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
        ctx = multiprocessing.get_context("spawn")  # fork would copy the camera thread's locks and cv2 state
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, kind), name=f"embed-{kind}", daemon=True)
        self._proc.start()
        child.close()
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
            status, detail = self._conn.recv()
            self.ready, self.failed = status == "ready", detail
        elif not self._proc.is_alive():
            self.failed = f"exited with code {self._proc.exitcode}"

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to end, then make sure it has."""
        try:
            self._conn.send(None)
        except (OSError, ValueError):
            pass
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout)
        self._conn.close()
        self._proc.close()
