"""The in-process job runner (the embedded default): one thread runs jobs one at a time.

One at a time because the machine has few cores and the detector and training each use them fully.
The background owner (app/background.py) starts the thread and stops it; with START_BACKGROUND off
(tests) nothing starts and `run_pending(app)` runs queued jobs in the caller's thread, deterministically.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION_KEY = "rollcall_jobs"


@dataclass
class _Runner:
    pending: "queue.Queue[tuple[int, Any, dict[str, Any]] | None]" = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    # Jobs submitted in this process and not finished: anything else "running" was cut off by a restart.
    active: set[int] = field(default_factory=set)


def runner_of(app: Flask) -> _Runner:
    """The app's runner state, made on first use."""
    runner = app.extensions.get(EXTENSION_KEY)
    if runner is None:
        runner = app.extensions.setdefault(EXTENSION_KEY, _Runner())
    return runner


def put(app: Flask, job_id: int, work: Any, kwargs: dict[str, Any]) -> None:
    """Queue a job; the thread is normally started by the owner, lazily here when none runs (flask run)."""
    runner = runner_of(app)
    runner.active.add(job_id)
    runner.pending.put((job_id, work, kwargs))
    if app.config.get("START_BACKGROUND", True):
        start(app)


def start(app: Flask) -> threading.Thread:
    """Start the runner thread unless it runs (the background owner calls this at start-up)."""
    runner = runner_of(app)
    with runner.lock:
        if runner.thread is None or not runner.thread.is_alive():
            runner.stopping.clear()
            runner.thread = threading.Thread(target=_loop, args=(app, runner), name="rollcall-jobs", daemon=True)
            runner.thread.start()
        return runner.thread


def run_pending(app: Flask) -> int:
    """Run every queued job now in this thread (tests, CLI); returns how many ran to the end."""
    runner = runner_of(app)
    count = 0
    while True:
        try:
            item = runner.pending.get_nowait()
        except queue.Empty:
            return count
        try:
            if item is not None and _run(app, runner, *item):
                count += 1
        finally:
            runner.pending.task_done()


def wait_idle(app: Flask, timeout: float) -> bool:
    """Block until every queued job has finished (runs them here when no thread runs); False on timeout."""
    runner = runner_of(app)
    if runner.thread is None or not runner.thread.is_alive():
        run_pending(app)
        return True
    end = time.monotonic() + timeout
    with runner.pending.all_tasks_done:
        while runner.pending.unfinished_tasks:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return False
            runner.pending.all_tasks_done.wait(remaining)
    return True


def shutdown(app: Flask, timeout: float = 10.0, finish_queued: bool = True) -> list[int]:
    """Stop the thread: after every queued job, or (finish_queued False: SIGTERM) after the current one.

    Returns the ids of jobs left unrun, for the owner to close as interrupted.
    """
    runner = runner_of(app)
    thread = runner.thread
    if not finish_queued:
        runner.stopping.set()
    if thread is not None and thread.is_alive():
        runner.pending.put(None)
        thread.join(timeout)
    left = []
    while True:
        try:
            item = runner.pending.get_nowait()
        except queue.Empty:
            break
        runner.pending.task_done()
        if item is not None:
            left.append(item[0])
            runner.active.discard(item[0])
    return left


def _loop(app: Flask, runner: _Runner) -> None:
    while not runner.stopping.is_set():
        item = runner.pending.get()
        try:
            if item is None:  # shutdown sentinel
                return
            if runner.stopping.is_set():  # SIGTERM while waiting: leave it for shutdown() to close
                runner.pending.put(item)
                return
            _run(app, runner, *item)
        except Exception:  # noqa: BLE001  (the worker must outlive any one job)
            log.exception("job %s crashed the runner step", item[0] if item else None)
        finally:
            runner.pending.task_done()


def _run(app: Flask, runner: _Runner, job_id: int, work: Any, kwargs: dict[str, Any]) -> bool:
    """One job or slice; False when the rest was queued again (behind the jobs queued meanwhile)."""
    from .jobs import run_job

    more = None
    try:
        more = run_job(app, job_id, work, kwargs)
    finally:
        if more is not None:
            runner.pending.put((job_id, work, more.kwargs))
        else:
            runner.active.discard(job_id)
    return more is None
