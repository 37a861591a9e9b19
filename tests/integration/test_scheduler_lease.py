"""Schedulers on many machines: started as the Procfile starts them, only the lease holder
enqueues sweeps; kill -9 it and a standby takes over within 10 s; SIGTERM it and at once."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
import redis
from dramatiq import Message

from actors.scheduler import LEASE_KEY, LEASE_SECONDS
from tests.integration.stack import Proc, Stack, wait_until
from tests.test_procfile import procfile

pytestmark = pytest.mark.slow  # starts real processes

TAKEOVER_LIMIT = 10.0  # seconds: issue 12's bound for a leader killed outright
STARTED = re.compile(r"started as (\S+);")


@pytest.fixture(params=["system", "private"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """TEST_REDIS_URL's server (its database flushed), or a private redis-server of its own."""
    if request.param == "system":
        return request.getfixturevalue("redis_url")
    return request.getfixturevalue("own_redis").url


def sweeps(client: redis.Redis) -> list[tuple[float, str]]:
    """(enqueued at, epoch seconds; the scheduler's name) of each sweep waiting in Redis, oldest
    first (no worker runs here, so every one stays)."""
    found = [Message.decode(raw) for raw in client.hvals("dramatiq:default.msgs")]
    return sorted((m.message_timestamp / 1000, m.options.get("scheduler", "?"))
                  for m in found if m.actor_name == "sweep")


def start(stack: Stack) -> tuple[Proc, str]:
    """A scheduler started by the Procfile's command line; it and its lease token."""
    # `python` is this virtualenv's, as with the virtualenv activated where the runner runs.
    stack.env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    proc = stack.spawn("scheduler", ["sh", "-c", procfile()["scheduler"]])
    name = wait_until(lambda: STARTED.search(proc.log_path.read_text())
                      or not proc.running() and pytest.fail(stack.logs()),
                      30, "the scheduler starting", stack.logs)[1]
    return proc, name


def said(proc: Proc, words: str) -> bool:
    return words in proc.log_path.read_text()


def test_one_scheduler_sweeps_and_a_standby_takes_over_from_a_killed_leader(
        tmp_path, broker_url):
    client = redis.Redis.from_url(broker_url)
    with Stack(tmp_path, f"sqlite:///{tmp_path / 'fixline.db'}", broker_url) as stack:
        (first, first_name), (second, second_name) = start(stack), start(stack)
        names = {first_name: first, second_name: second}
        holder = wait_until(lambda: client.get(LEASE_KEY), 10, "a lease holder", stack.logs)
        leader_name = holder.decode()
        leader = names.pop(leader_name)
        (standby_name, standby), = names.items()
        wait_until(lambda: said(standby, f"standing by: {leader_name} holds the lease"), 10,
                   "the other scheduler standing by", stack.logs)
        # Both tick every second: let the standby pass several ticks, then count.
        wait_until(lambda: len(sweeps(client)) >= 5, 20, "five sweeps", stack.logs)
        assert {name for _, name in sweeps(client)} == {leader_name}, stack.logs()
        assert said(leader, "leading:") and not said(standby, "leading:")

        leader.kill()  # SIGKILL: it releases nothing, its lease has to lapse
        killed_at = time.time()
        first_sweep = wait_until(
            lambda: next((at for at, name in sweeps(client) if name == standby_name), None),
            TAKEOVER_LIMIT + 5, "the standby sweeping", stack.logs)
        takeover = first_sweep - killed_at
        print(f"\nscheduler takeover after SIGKILL of the leader: {takeover:.2f} s "
              f"(lease {LEASE_SECONDS:.0f} s, limit {TAKEOVER_LIMIT:.0f} s)")
        assert takeover < TAKEOVER_LIMIT
        assert client.get(LEASE_KEY).decode() == standby_name and said(standby, "leading:")
        assert all(at <= killed_at for at, name in sweeps(client) if name == leader_name)

        third, third_name = start(stack)
        wait_until(lambda: said(third, f"standing by: {standby_name} holds the lease"), 10,
                   "a new scheduler standing by", stack.logs)
        standby.signal(signal.SIGTERM)  # to its group, as Procfile runners stop a process
        wait_until(lambda: re.search(r"\bstopped$", standby.log_path.read_text(), re.M), 10,
                   "the leader stopping", stack.logs)
        stopped_at = time.time()
        assert said(standby, "released the lease")
        assert client.get(LEASE_KEY) in (None, third_name.encode())  # released, not lapsed
        handover = wait_until(
            lambda: next((at for at, name in sweeps(client) if name == third_name), None),
            TAKEOVER_LIMIT, "the new scheduler sweeping", stack.logs) - stopped_at
        print(f"scheduler takeover after SIGTERM of the leader: {max(handover, 0):.2f} s")
        assert handover < LEASE_SECONDS  # sooner than a lapse could give it
        assert not [proc for proc in stack.procs if "Traceback" in proc.log_path.read_text()]
    client.close()
