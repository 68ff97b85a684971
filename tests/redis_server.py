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
