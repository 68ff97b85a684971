"""Background jobs: long work (video enrollment, training) runs off the request thread with progress.

A Job row is the truth the pages read; where the work runs is the queue's business: the in-process
runner thread by default (app/job_runner.py), RQ worker processes when REDIS_URL is set
(app/job_queue.py). Reads never write: a job no queue is running is *shown* as interrupted and only
closed by a write path (the owner at start, or the next submit of that course).
"""
from __future__ import annotations

import importlib
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from flask import Flask, current_app
from sqlalchemy import text

from . import db
from .job_runner import EXTENSION_KEY, run_pending, runner_of, shutdown, wait_idle  # noqa: F401 (re-exported)
from .models import Job, JobStatus, utcnow
from .vision.detector import DetectorError

log = logging.getLogger(__name__)

INTERRUPTED = "Interrupted because the server restarted. Start it again."
ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
# The first key of the PostgreSQL advisory lock `starting` takes (the course id is the second), so it
# cannot collide with another advisory lock on the same server.
START_LOCK_NAMESPACE = 15016
_start_lock = threading.Lock()  # SQLite serves one process: a thread lock is enough there


class JobError(Exception):
    """Expected failure of a job; its message is shown to the teacher as is."""


@dataclass
class Requeue:
    """Returned by a job body that did one bounded slice: run it again with these kwargs after the jobs queued meanwhile."""

    kwargs: dict[str, Any]


# work(job_id, **kwargs) -> result dict (or Requeue to continue later); runs inside an app context.
Work = Callable[..., Any]


def uses_redis(app: Flask) -> bool:
    """Whether jobs go to RQ worker processes (REDIS_URL set) rather than the in-process thread."""
    return bool(app.config["REDIS_URL"])


@contextmanager
def starting(course_id: int) -> Iterator[None]:
    """One decision at a time, across every process, about starting a job for this course.

    Hold it from "is one already running?" until the new job is submitted (a job created but not yet
    submitted looks orphaned to a second start, which would close it and start its own). On PostgreSQL
    a transaction-scoped advisory lock on a connection of its own; waits while another process holds it.
    """
    if db.engine.dialect.name != "postgresql":
        with _start_lock:
            yield
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:namespace, :course_id)"),
                     {"namespace": START_LOCK_NAMESPACE, "course_id": course_id})
        try:
            yield
        finally:
            conn.rollback()  # ends the transaction, which releases the lock


def create_job(kind: str, course_id: int, student_id: int | None = None, message: str = "Waiting to start") -> Job:
    """A queued Job row (committed, so the progress page can show it at once); closes this course's orphans."""
    close_orphans(current_app._get_current_object(), course_id)
    job = Job(kind=kind, course_id=course_id, student_id=student_id, status=JobStatus.QUEUED, progress=0.0,
              message=message)
    db.session.add(job)
    db.session.commit()
    return job


def submit(app: Flask, job_id: int, work: Work, **kwargs: Any) -> None:
    """Queue work for a Job row: on Redis when configured, else the in-process runner."""
    if uses_redis(app):
        from .job_queue import enqueue

        enqueue(app, job_id, work_path(work), kwargs)
    else:
        from .job_runner import put

        put(app, job_id, work, kwargs)


def work_path(work: Work) -> str:
    """"module:function" of a job body, so another process can import it (lambdas run in-process only)."""
    name = f"{work.__module__}:{work.__qualname__}"
    if "<" in name:
        raise ValueError(f"job bodies sent to a worker process must be module-level functions, not {name}")
    return name


def resolve(path: str) -> Work:
    """The job body named by work_path."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(app: Flask, job_id: int, work: Work, kwargs: dict[str, Any]) -> Requeue | None:
    """Run one job (or one slice of it) in an app context; a Requeue means "submit the rest again"."""
    with app.app_context():
        try:
            if not _claim(job_id):
                return None
            try:
                result = work(job_id, **kwargs)
            except (JobError, DetectorError) as exc:
                # Expected failures (a missing detector included) are shown to the teacher as they are.
                db.session.rollback()
                _set(job_id, status=JobStatus.FAILED, message=str(exc), finished_at=utcnow())
                return None
            except Exception:  # noqa: BLE001
                db.session.rollback()
                log.exception("job %s failed", job_id)
                _set(job_id, status=JobStatus.FAILED, finished_at=utcnow(),
                     message="Something went wrong on the server; nothing was half-saved. Please try again.")
                return None
            job = db.session.get(Job, job_id)
            if job is None:  # the course was deleted meanwhile
                return None
            if isinstance(result, Requeue):
                return result
            if job.status == JobStatus.RUNNING:
                _set(job_id, status=JobStatus.DONE, progress=1.0, result=result or {}, finished_at=utcnow(),
                     message=(result or {}).get("message", "Finished"))
            return None
        finally:
            db.session.remove()


def _claim(job_id: int) -> bool:
    """Queued -> running in one conditional UPDATE; a continued slice is running already.

    False for a job that was closed meanwhile (shown interrupted, or its course deleted): it never runs,
    so a start that took over from it is the only one.
    """
    started = db.session.execute(db.update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                                 .values(status=JobStatus.RUNNING, message="Started"))
    db.session.commit()
    if started.rowcount:
        return True
    job = db.session.get(Job, job_id)
    return job is not None and job.status == JobStatus.RUNNING


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


def is_active(app: Flask, job_id: int) -> bool:
    """Whether some queue is running or holding this job (else a queued/running row is an orphan)."""
    if uses_redis(app):
        from .job_queue import is_active as active_on_redis

        return active_on_redis(app, job_id)
    return job_id in runner_of(app).active


def _shown(job: Job | None) -> Job | None:
    """The job as pages show it: an orphan is detached from the session and shown failed, nothing written."""
    if job is not None and job.status in ACTIVE_STATUSES and not is_active(current_app._get_current_object(), job.id):
        db.session.expunge(job)  # a plain object now: the changes below can never be flushed
        job.status, job.message = JobStatus.FAILED, INTERRUPTED
    return job


def latest_job(course_id: int, kind: str, student_id: int | None = None) -> Job | None:
    """The newest job of a kind for a course (and student), as pages show it."""
    query = db.select(Job).where(Job.course_id == course_id, Job.kind == kind)
    if student_id is not None:
        query = query.where(Job.student_id == student_id)
    return _shown(db.session.scalar(query.order_by(Job.id.desc()).limit(1)))


def course_job(course_id: int, job_id: int) -> Job | None:
    """A job of this course, as pages show it (None if it is another course's or gone)."""
    job = db.session.get(Job, job_id)
    if job is None or job.course_id != course_id:
        return None
    return _shown(job)


def close_orphans(app: Flask, course_id: int | None = None) -> int:
    """Mark queued/running jobs no queue holds as interrupted (the owner at start; create_job per course)."""
    query = db.select(Job).where(Job.status.in_(ACTIVE_STATUSES))
    if course_id is not None:
        query = query.where(Job.course_id == course_id)
    orphans = [job for job in db.session.scalars(query) if not is_active(app, job.id)]
    for job in orphans:
        job.status, job.finished_at, job.message = JobStatus.FAILED, utcnow(), INTERRUPTED
    if orphans:
        db.session.commit()
    return len(orphans)
