"""Fixed-window rate limits, in Redis when there is one, else in this process."""

from __future__ import annotations

import threading
import time

import redis
from flask import current_app

_memory: dict[str, tuple[int, int]] = {}
_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _clients[url]


def hit(key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
    """Count one hit on key; (allowed, seconds until the window resets)."""
    window = int(time.time() // window_seconds)
    retry_after = window_seconds - int(time.time() % window_seconds)
    bucket = f"fixline:rl:{key}:{window}"
    url = current_app.extensions["fixline"].broker_url
    if url != "stub://":
        try:
            pipe = _client(url).pipeline()
            pipe.incr(bucket)
            pipe.expire(bucket, window_seconds + 1)
            count = pipe.execute()[0]
            return count <= limit, retry_after
        # Redis down: fall back to counting in this process. A connection that breaks while
        # a reply is read can surface as AttributeError from redis-py's parser (its buffer is
        # gone: redis/redis-py#3971); a limit is best effort, so that is no 500 either.
        except (redis.RedisError, AttributeError):
            pass
    with _lock:
        seen_window, count = _memory.get(bucket, (window, 0))
        _memory[bucket] = (window, count + 1)
        if len(_memory) > 10_000:
            _memory.clear()
    return count + 1 <= limit, retry_after

