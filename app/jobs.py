"""Background jobs: long work (video enrollment, training) runs off the request thread with progress.

One worker thread, started on the first submit, runs jobs one at a time (the machine has few cores and
the detector and training each use them fully). With START_BACKGROUND False (tests) nothing starts:
jobs wait in the queue until `run_pending(app)` runs them in the caller's thread, deterministically.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, abort, current_app

from . import db
from .models import Course, Job, utcnow
from .vision.detector import DetectorError

log = logging.getLogger(__name__)

EXTENSION_KEY = "rollcall_jobs"


class JobError(Exception):
    """Expected failure of a job; its message is shown to the teacher as is."""


@dataclass
class Requeue:
    """Returned by a job body that did one bounded slice: run it again with these kwargs after the jobs queued meanwhile."""

    kwargs: dict[str, Any]


# work(job_id, **kwargs) -> result dict (or Requeue to continue later); runs inside an app context.
Work = Callable[..., Any]


@dataclass
class _Runner:
    pending: "queue.Queue[tuple[int, Work, dict[str, Any]] | None]" = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Jobs submitted in this process and not finished: anything else "running" was cut off by a restart.
    active: set[int] = field(default_factory=set)


def _runner(app: Flask) -> _Runner:
    runner = app.extensions.get(EXTENSION_KEY)
    if runner is None:
        runner = app.extensions.setdefault(EXTENSION_KEY, _Runner())
    return runner


def create_job(kind: str, course_id: int, student_id: int | None = None, message: str = "Waiting to start") -> Job:
    """A queued Job row (committed, so the progress page can show it at once)."""
    job = Job(kind=kind, course_id=course_id, student_id=student_id, status="queued", progress=0.0, message=message)
    db.session.add(job)
    db.session.commit()
    return job


def submit(app: Flask, job_id: int, work: Work, **kwargs: Any) -> None:
    """Queue work for a Job row; starts the worker thread lazily unless START_BACKGROUND is off."""
    runner = _runner(app)
    runner.active.add(job_id)
    runner.pending.put((job_id, work, kwargs))
    if not app.config.get("START_BACKGROUND", True):
        return
    with runner.lock:
        if runner.thread is None or not runner.thread.is_alive():
            runner.thread = threading.Thread(target=_loop, args=(app, runner), name="rollcall-jobs", daemon=True)
            runner.thread.start()


def run_pending(app: Flask) -> int:
    """Run every queued job now in this thread (tests, CLI); returns how many ran."""
    runner = _runner(app)
    count = 0
    while True:
        try:
            item = runner.pending.get_nowait()
        except queue.Empty:
            return count
        try:
            if item is not None and _run(app, *item):
                count += 1
        finally:
            runner.pending.task_done()


def wait_idle(app: Flask, timeout: float) -> bool:
    """Block until every queued job has finished (runs them here when no thread runs); False on timeout."""
    runner = _runner(app)
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


def shutdown(app: Flask, timeout: float = 10.0) -> None:
    """Stop the worker thread after the jobs already queued (tests and clean exits)."""
    runner = _runner(app)
    thread = runner.thread
    if thread is not None and thread.is_alive():
        runner.pending.put(None)
        thread.join(timeout)


def _loop(app: Flask, runner: _Runner) -> None:
    while True:
        item = runner.pending.get()
        try:
            if item is None:  # shutdown sentinel
                return
            _run(app, *item)
        except Exception:  # noqa: BLE001  (the worker must outlive any one job)
            log.exception("job %s crashed the runner step", item[0] if item else None)
        finally:
            runner.pending.task_done()


def _run(app: Flask, job_id: int, work: Work, kwargs: dict[str, Any]) -> bool:
    """Run one job (or one slice of it); False when it was put back in the queue to continue later."""
    requeued = False
    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is not None and job.status != "running":  # a continued slice keeps its progress message
            _set(job_id, status="running", message="Started")
        try:
            result = work(job_id, **kwargs)
        except (JobError, DetectorError) as exc:
            # Expected failures (a missing detector included) are shown to the teacher as they are.
            db.session.rollback()
            _set(job_id, status="failed", message=str(exc), finished_at=utcnow())
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("job %s failed", job_id)
            _set(job_id, status="failed", message="Something went wrong on the server; nothing was half-saved. "
                                                  "Please try again.", finished_at=utcnow())
        else:
            job = db.session.get(Job, job_id)
            if isinstance(result, Requeue):
                if job is not None:
                    requeued = True
                    _runner(app).pending.put((job_id, work, result.kwargs))
            elif job is not None and job.status == "running":
                _set(job_id, status="done", progress=1.0, result=result or {}, finished_at=utcnow(),
                     message=(result or {}).get("message", "Finished"))
        finally:
            if not requeued:
                _runner(app).active.discard(job_id)
            db.session.remove()
    return not requeued


def _set(job_id: int, **values: Any) -> None:
    job = db.session.get(Job, job_id)
    if job is None:  # the course was deleted meanwhile
        return
    for key, value in values.items():
        setattr(job, key, value)
    db.session.commit()


def report_progress(job_id: int | None, fraction: float, message: str) -> None:
    """Record progress (0..1) of a running job in a short transaction; no-op without a job."""
    if job_id is None:
        return
    _set(job_id, progress=max(0.0, min(1.0, fraction)), message=message)


def latest_job(course_id: int, kind: str, student_id: int | None = None) -> Job | None:
    """The newest job of a kind for a course (and student); one cut off by a restart is marked failed."""
    query = db.select(Job).where(Job.course_id == course_id, Job.kind == kind)
    if student_id is not None:
        query = query.where(Job.student_id == student_id)
    job = db.session.scalar(query.order_by(Job.id.desc()).limit(1))
    if job is not None:
        close_if_orphaned(job)
    return job


def close_if_orphaned(job: Job) -> None:
    """Mark a queued/running job failed when this process is not running it (the server restarted)."""
    if job.status in ("queued", "running") and job.id not in _runner(current_app._get_current_object()).active:
        job.status, job.finished_at = "failed", utcnow()
        job.message = "Interrupted because the server restarted. Start it again."
        db.session.commit()


def get_job_or_404(course: Course, job_id: int) -> Job:
    """A job of this (already owner-checked) course, else 404."""
    job = db.session.get(Job, job_id)
    if job is None or job.course_id != course.id:
        abort(404)
    close_if_orphaned(job)
    return job
