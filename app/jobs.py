"""Background jobs: long work (video enrollment, training) runs off the request thread with progress.

A Job row is the truth the pages read; where the work runs is the queue's business: the in-process
runner thread by default (app/job_runner.py), RQ worker processes when REDIS_URL is set
(app/job_queue.py). Reads never write: a job no queue is running is *shown* as interrupted and only
closed by a write path (the owner at start, or the next submit of that course).
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, abort, current_app

from . import db
from .job_runner import EXTENSION_KEY, run_pending, runner_of, shutdown, wait_idle  # noqa: F401 (re-exported)
from .models import Course, Job, utcnow
from .vision.detector import DetectorError

log = logging.getLogger(__name__)

INTERRUPTED = "Interrupted because the server restarted. Start it again."
ACTIVE_STATUSES = ("queued", "running")


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
    return bool(app.config.get("REDIS_URL"))


def create_job(kind: str, course_id: int, student_id: int | None = None, message: str = "Waiting to start") -> Job:
    """A queued Job row (committed, so the progress page can show it at once); closes this course's orphans."""
    close_orphans(current_app._get_current_object(), course_id)
    job = Job(kind=kind, course_id=course_id, student_id=student_id, status="queued", progress=0.0, message=message)
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
            job = db.session.get(Job, job_id)
            if job is not None and job.status != "running":  # a continued slice keeps its progress message
                _set(job_id, status="running", message="Started")
            try:
                result = work(job_id, **kwargs)
            except (JobError, DetectorError) as exc:
                # Expected failures (a missing detector included) are shown to the teacher as they are.
                db.session.rollback()
                _set(job_id, status="failed", message=str(exc), finished_at=utcnow())
                return None
            except Exception:  # noqa: BLE001
                db.session.rollback()
                log.exception("job %s failed", job_id)
                _set(job_id, status="failed", message="Something went wrong on the server; nothing was half-saved. "
                                                      "Please try again.", finished_at=utcnow())
                return None
            job = db.session.get(Job, job_id)
            if job is None:  # the course was deleted meanwhile
                return None
            if isinstance(result, Requeue):
                return result
            if job.status == "running":
                _set(job_id, status="done", progress=1.0, result=result or {}, finished_at=utcnow(),
                     message=(result or {}).get("message", "Finished"))
            return None
        finally:
            db.session.remove()


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
        job.status, job.message = "failed", INTERRUPTED
    return job


def latest_job(course_id: int, kind: str, student_id: int | None = None) -> Job | None:
    """The newest job of a kind for a course (and student), as pages show it."""
    query = db.select(Job).where(Job.course_id == course_id, Job.kind == kind)
    if student_id is not None:
        query = query.where(Job.student_id == student_id)
    return _shown(db.session.scalar(query.order_by(Job.id.desc()).limit(1)))


def get_job_or_404(course: Course, job_id: int) -> Job:
    """A job of this (already owner-checked) course, as pages show it, else 404."""
    job = db.session.get(Job, job_id)
    if job is None or job.course_id != course.id:
        abort(404)
    return _shown(job)


def close_orphans(app: Flask, course_id: int | None = None) -> int:
    """Mark queued/running jobs no queue holds as interrupted (the owner at start; create_job per course)."""
    query = db.select(Job).where(Job.status.in_(ACTIVE_STATUSES))
    if course_id is not None:
        query = query.where(Job.course_id == course_id)
    orphans = [job for job in db.session.scalars(query) if not is_active(app, job.id)]
    for job in orphans:
        job.status, job.finished_at, job.message = "failed", utcnow(), INTERRUPTED
    if orphans:
        db.session.commit()
    return len(orphans)
