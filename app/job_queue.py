"""Jobs on Redis with RQ (REDIS_URL set): web processes enqueue, `flask worker` processes run them.

Why RQ rather than Celery: our jobs are a handful of Python functions run one at a time per worker,
with progress already kept in the Job row; RQ needs only Redis, no broker/result-backend settings, and
is what microblog uses. The job body is the same function the in-process runner calls.

Which Redis job runs a Job row is kept in a hash (ACTIVE), so any web process can tell a job still
held by RQ from one cut off by a crash (shown as interrupted) without writing anything.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RedisJob
from rq.job import JobStatus

log = logging.getLogger(__name__)

HELD = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
# A training of 1,000 students takes about a minute, a 5,000-photo ZIP slice about one: an hour is a hang.
JOB_TIMEOUT_SECONDS = 3600
_worker_app: Flask | None = None  # the app `flask worker` made; jobs run with it


def connection(app: Flask) -> Redis:
    """The app's Redis connection (a pool inside), made on first use."""
    redis = app.extensions.get("rollcall_redis")
    if redis is None:
        redis = app.extensions.setdefault("rollcall_redis", Redis.from_url(app.config["REDIS_URL"]))
    return redis


def queue_of(app: Flask) -> Queue:
    """The RQ queue jobs go to (REDIS_QUEUE, so two schools or test runs can share one Redis)."""
    return Queue(str(app.config.get("REDIS_QUEUE", "rollcall")), connection=connection(app))


def _active_key(app: Flask) -> str:
    return f"{app.config.get('REDIS_QUEUE', 'rollcall')}:active"


def enqueue(app: Flask, job_id: int, work_path: str, kwargs: dict[str, Any]) -> str:
    """Put a job (or its next slice) at the end of the queue; returns the Redis job id."""
    redis_id = f"{app.config.get('REDIS_QUEUE', 'rollcall')}-{job_id}-{uuid.uuid4().hex[:8]}"
    # Recorded first: a worker finishing before this line would otherwise leave a stale "active" mark.
    connection(app).hset(_active_key(app), str(job_id), redis_id)
    queue_of(app).enqueue(perform, job_id, work_path, kwargs, job_id=redis_id, job_timeout=JOB_TIMEOUT_SECONDS,
                          result_ttl=600, failure_ttl=7 * 86400, description=f"rollcall job {job_id}")
    return redis_id


def is_active(app: Flask, job_id: int) -> bool:
    """Whether RQ still holds the job (queued, started, deferred, scheduled); a read, nothing written."""
    redis = connection(app)
    redis_id = redis.hget(_active_key(app), str(job_id))
    if redis_id is None:
        return False
    try:
        return RedisJob.fetch(redis_id.decode(), connection=redis).get_status() in HELD
    except NoSuchJobError:
        return False


def perform(job_id: int, work_path: str, kwargs: dict[str, Any]) -> None:
    """RQ's entry point in the worker process: run the job body; a slice's rest goes to the queue's end."""
    from .jobs import resolve, run_job

    app = _worker_app or _standalone_app()
    more = run_job(app, job_id, resolve(work_path), kwargs)
    if more is not None:
        enqueue(app, job_id, work_path, more.kwargs)
    else:
        connection(app).hdel(_active_key(app), str(job_id))


def _standalone_app() -> Flask:
    """An app for jobs run by a plain `rq worker` (not `flask worker`): made once, from the environment."""
    global _worker_app
    from . import create_app

    _worker_app = create_app()
    return _worker_app


def work(app: Flask, burst: bool = False) -> None:
    """The worker process's loop: the mail sender and sweep beside RQ, all stopped in order on SIGTERM."""
    global _worker_app
    from .background import start_background

    _worker_app = app
    # SimpleWorker runs jobs in this process: the detector, the DB pool and imports stay warm between
    # jobs, and SIGTERM is a warm shutdown (the current job finishes, RQ then returns here).
    worker = SimpleWorker([queue_of(app)], connection=connection(app))
    background = start_background(app, force=True, role="worker", sweeper=not burst)
    try:
        worker.work(burst=burst, logging_level="INFO", with_scheduler=False)
    finally:
        if background is not None:
            background.stop()
            log.info("worker stopped: %s", ", ".join(background.stopped) or "nothing ran")


def worker_command_factory():
    """`flask worker [--burst]`: run queued jobs (and mail) until SIGTERM; --burst stops when the queue is empty."""
    import click
    from flask import current_app
    from flask.cli import with_appcontext

    @click.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, one-off catch-up).")
    @with_appcontext
    def worker_command(burst: bool) -> None:
        """Run background jobs from Redis (needs REDIS_URL; without it jobs run inside the web process)."""
        app = current_app._get_current_object()
        if not app.config.get("REDIS_URL"):
            raise click.UsageError("REDIS_URL is not set: jobs run inside the web process (`make run`)")
        from .serving import configure_logging

        configure_logging(app)
        work(app, burst=burst)

    return worker_command
