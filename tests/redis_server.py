"""The Redis server the queue tests use (ROLLCALL_TEST_REDIS_URL); skipped locally when none answers, an error in CI."""
from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("ROLLCALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reason() -> str:
    """Why Redis cannot be used here ("" when it answers)."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        return f"no Redis answers at {REDIS_URL} ({exc})"
    return ""


REDIS_MISSING = _reason()
if REDIS_MISSING and os.environ.get("CI"):
    raise RuntimeError(f"{REDIS_MISSING}: CI runs the queue and camera-worker tests against a real Redis")
needs_redis = pytest.mark.skipif(bool(REDIS_MISSING), reason=REDIS_MISSING or "Redis answers")


def use_redis(app, prefix: str = "rollcall-test") -> None:
    """Point the app's jobs and cameras at the test Redis, in a queue/key space of its own."""
    import uuid

    app.config.update(REDIS_URL=REDIS_URL, REDIS_QUEUE=f"{prefix}-{uuid.uuid4().hex[:12]}")


def forget_redis(app) -> None:
    """Delete what a test left in Redis under the app's queue name."""
    from app.job_queue import connection

    redis = connection(app)
    keys = list(redis.scan_iter(f"*{app.config['REDIS_QUEUE']}*"))  # queue, live keys and RQ's job hashes
    if keys:
        redis.delete(*keys)


def process_env(app, **extra: str) -> dict:
    """The environment a deployed worker process gets: the app's database, folders, Redis and queue."""
    config = app.config
    return {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql"),
            "ROLLCALL_INSTANCE_DIR": config["INSTANCE_DIR"], "ROLLCALL_DATASET_DIR": config["DATASET_DIR"],
            "ROLLCALL_RECOGNIZER_DIR": config["RECOGNIZER_DIR"], "ROLLCALL_SNAPSHOT_DIR": config["SNAPSHOT_DIR"],
            "ROLLCALL_UPLOAD_DIR": config["UPLOAD_DIR"], "CAMERA_VIDEO_DIR": config["CAMERA_VIDEO_DIR"],
            "DETECTOR_DIR": config["DETECTOR_DIR"], "REDIS_URL": config["REDIS_URL"],
            "REDIS_QUEUE": config["REDIS_QUEUE"], "MAIL_ENABLED": "0", "SECRET_KEY": "test-secret", **extra}
