"""The leader lease and the scheduler's ticks on a real Redis server (TEST_REDIS_URL).

Each test works under its own random key, so parallel runs on one server do not meet; the
processes themselves, one killed with SIGKILL, are tests/integration/test_scheduler_lease.py.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from actors.scheduler import Scheduler, leader_lease
from app.lease import Lease
from tests.integration.stack import RedisServer, free_port

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    if not TEST_REDIS_URL:
        pytest.skip("Redis server not configured: set TEST_REDIS_URL to run this")
    connection = redis.Redis.from_url(TEST_REDIS_URL)
    yield connection
    connection.close()


@pytest.fixture
def key(client) -> Iterator[str]:
    """A key no other test uses; deleted afterwards."""
    name = f"fixline-test:lease:{uuid.uuid4().hex}"
    yield name
    client.delete(name)


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.02)
    return result


def test_one_holder_among_two(client, key):
    a, b = Lease(client, key, 5), Lease(client, key, 5)
    assert a.token != b.token
    assert a.acquire() and not b.acquire() and not a.acquire()
    assert a.holder() == b.holder() == a.token
    assert 0 < client.pttl(key) <= 5000
    assert not b.hold() and a.hold()
    assert a.holder() == a.token


def test_only_the_holder_renews(client, key):
    a, b = Lease(client, key, 5), Lease(client, key, 5)
    assert not a.renew()  # nobody holds it: a renewal does not take it
    assert client.get(key) is None
    assert a.acquire()
    client.pexpire(key, 1000)
    assert not b.renew()
    assert 0 < client.pttl(key) <= 1000 and a.holder() == a.token
    assert a.renew()
    assert 1000 < client.pttl(key) <= 5000


def test_only_the_holder_releases(client, key):
    a, b = Lease(client, key, 5), Lease(client, key, 5)
    assert a.acquire()
    assert not b.release()
    assert a.holder() == a.token
    assert a.release()
    assert client.get(key) is None and not a.release()
    assert b.acquire() and b.holder() == b.token


def test_a_lease_its_holder_stops_renewing_passes_to_the_next(client, key):
    a, b = Lease(client, key, 0.3), Lease(client, key, 0.3)
    assert a.acquire() and not b.hold()
    wait_for(b.hold, 5)  # a never renews: its lease lapses
    assert b.holder() == b.token
    assert not a.renew() and not a.release() and not a.hold()
    assert b.holder() == b.token


def sweeps_of(lease: Lease | None) -> tuple[Scheduler, list[str]]:
    sent: list[str] = []
    return Scheduler(lease, sent.append), sent


def test_only_the_scheduler_holding_the_lease_sweeps_and_says_so_once(client, key, caplog):
    caplog.set_level(logging.INFO, "fixline.scheduler")
    (a, a_sent), (b, b_sent) = sweeps_of(Lease(client, key, 5)), sweeps_of(Lease(client, key, 5))
    for _ in range(5):
        assert a.tick() and not b.tick()
    assert a_sent == [a.name] * 5 and b_sent == []
    assert (a.state, b.state) == ("leader", "standby")
    said = [r.getMessage() for r in caplog.records]
    assert sum("leading" in line for line in said) == 1
    assert said.count(f"standing by: {a.name} holds the lease") == 1

    a.release()  # as on SIGTERM: the standby takes over at its next tick, not at expiry
    assert client.get(key) is None
    assert b.tick() and not a.tick()
    assert b_sent == [b.name] and a.state == "standby"
    said = [r.getMessage() for r in caplog.records]
    assert "released the lease" in said and "no longer leading" in said


def test_a_scheduler_that_cannot_reach_redis_does_not_sweep_and_keeps_trying(
        tmp_path_factory, caplog):
    caplog.set_level(logging.INFO, "fixline.scheduler")
    server = RedisServer(tmp_path_factory.mktemp("redis"))  # a short Unix socket path
    server.start()
    try:
        scheduler, sent = sweeps_of(leader_lease(server.url))
        assert scheduler.tick()
        server.kill()
        assert not scheduler.tick() and not scheduler.tick()
        assert scheduler.state == "unreachable" and sent == [scheduler.name]
        said = [r.getMessage() for r in caplog.records]
        assert sum("cannot reach Redis" in line for line in said) == 1
        assert "no longer leading" in said
        server.start()  # empty: nobody holds the lease
        assert scheduler.tick() and scheduler.state == "leader"
        assert sent == [scheduler.name] * 2
    finally:
        server.stop()


def test_a_redis_that_is_not_there_at_all_is_unreachable():
    scheduler, sent = sweeps_of(leader_lease(f"redis://127.0.0.1:{free_port()}/0"))
    assert not scheduler.tick() and scheduler.state == "unreachable" and sent == []


def test_on_the_stub_broker_the_only_scheduler_just_sweeps():
    assert leader_lease("stub://") is None
    scheduler, sent = sweeps_of(None)
    assert scheduler.tick() and scheduler.tick() and len(sent) == 2
    scheduler.release()  # nothing to give up
