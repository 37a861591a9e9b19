"""Fixtures for the real-process tests: a fresh PostgreSQL schema, a flushed Redis database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.stack import RedisServer
from tests.postgres import POSTGRES_URL, fresh_schema

REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on a fresh, empty PostgreSQL schema, dropped afterwards (TEST_DATABASE_URL)."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run this")
    with fresh_schema("it_") as url:
        yield url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """TEST_REDIS_URL's database, flushed before and after (a system Redis server)."""
    if not REDIS_URL:
        pytest.skip("no Redis server configured: set TEST_REDIS_URL to run this")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
        yield REDIS_URL
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private redis-server on a short Unix socket path (no persistence), stopped after."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str]:
    """(DATABASE_URL, REDIS_URL): SQLite with a private Redis, or PostgreSQL with the system's."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fixline.db'}", request.getfixturevalue("own_redis").url
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("redis_url")
