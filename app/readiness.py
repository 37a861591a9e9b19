"""What /readyz checks: the database, Redis, and a worker heartbeat."""

from __future__ import annotations

import redis

from app.config import Config
from app.db import db

HEARTBEAT_PREFIX = "fixline:worker-heartbeat:"


def check(config: Config) -> dict[str, str]:
    """Map of component → reason for each one that is down (empty when ready)."""
    problems: dict[str, str] = {}
    try:
        db.execute_sql("SELECT 1")
    except Exception as exc:
        problems["database"] = type(exc).__name__
    if config.broker_url == "stub://":
        return problems
    try:
        client = redis.Redis.from_url(config.broker_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
            if next(iter(client.scan_iter(HEARTBEAT_PREFIX + "*", count=100)), None) is None:
                problems["worker"] = "no worker heartbeat in Redis"
        finally:
            client.close()
    except redis.RedisError as exc:
        problems["redis"] = f"{type(exc).__name__}: {exc}"[:200]
    return problems
