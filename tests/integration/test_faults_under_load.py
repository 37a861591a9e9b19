"""Faults under load (issue 12, item 3), on SQLite and PostgreSQL, each bounded in time: workers
killed -9 every few seconds, Redis restarted, the database connection cut, web and workers
stopped with SIGTERM mid-burst. Every ticket is booked exactly once and every message sent once;
each test prints its figures."""

from __future__ import annotations

import random
import signal
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable

import pytest

from tests.integration.load import Database, Figures, Load, measure, once, unavailable
from tests.integration.stack import Stack, wait_until
from tests.integration.tcp_proxy import TcpProxy
from tests.twilio_fake import FakeTwilio

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]  # starts the stack's processes

IN_FLIGHT = 30  # tickets opened and not yet booked, at most
REPLY_TIMEOUT = 4  # VENDOR_REPLY_TIMEOUT_SECONDS: a third of the tickets wait one out
# The sweep hands lost events over again after 15 s and resends lost messages after 30 s
# (app.events.REPUBLISH_AFTER_SECONDS, app.booking.sweep.STALE_QUEUED): room for both.
SETTLE_SECONDS = 60
KILL_EVERY = 4.0  # seconds between two kill -9 of a worker
CUT_SECONDS = 3.0  # how long the database connection stays cut


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fixline.db'}"
    return request.getfixturevalue("postgres_url")


def backend(url: str) -> str:
    return url.split(":")[0]


def run(stack: Stack, database_url: str, tickets: int, name: str,
        inject: Callable[[Load], int], webhook_token: str | None = None) -> tuple[Load, Figures]:
    """Book tickets through the stack while inject(load) puts its faults in (returning how
    many); print the figures and check them: none lost, none doubled, nothing sent twice."""
    database = Database(database_url)
    load = Load([stack.base], stack.api_key, webhook_token or stack.webhook_token, database,
                check=stack.check_alive,
                logs=stack.logs)
    try:
        load.add_vendors(tickets + 40)
        load.start(tickets, IN_FLIGHT)
        faults = inject(load)
        booked = load.wait_booked(tickets, timeout=120)
        settled = booked and load.wait_settled(timeout=SETTLE_SECONDS)
    finally:
        load.stop()
    figures = measure(load, faults)
    database.close()
    print(figures.line(f"{name}, {backend(database_url)}"))
    assert booked and settled and figures.problems() == [], stack.logs()
    assert figures.faults > 0
    return load, figures


def when_booked(load: Load, share: float, tickets: int) -> None:
    """Wait until share of the tickets are booked (the load is well under way)."""
    wait_until(lambda: load.healthy() or load.booked >= share * tickets, 120,
               f"{share:.0%} of the tickets booked")


def test_a_worker_killed_every_few_seconds_loses_nothing(tmp_path, database_url, own_redis):
    tickets = 300
    chance = random.Random()
    seed = chance.randrange(1 << 30)
    chance.seed(seed)
    with Stack(tmp_path, database_url, own_redis.url,
               VENDOR_REPLY_TIMEOUT_SECONDS=str(REPLY_TIMEOUT)) as stack:
        stack.prepare()
        stack.start(workers=2)

        def kill_workers(load: Load) -> int:
            kills, deadline = 0, time.monotonic() + 120
            while load.booked < tickets * 0.8 and time.monotonic() < deadline:
                time.sleep(KILL_EVERY)
                load.healthy()
                stack.restart(chance.choice(stack.workers), signal.SIGKILL)  # mid-message
                kills += 1
            return kills

        run(stack, database_url, tickets, f"kill -9 a worker every {KILL_EVERY:.0f} s "
            f"(seed {seed})", kill_workers)


def test_redis_restarted_during_load_loses_nothing(tmp_path, database_url, own_redis):
    tickets = 150
    with Stack(tmp_path, database_url, own_redis.url,
               VENDOR_REPLY_TIMEOUT_SECONDS=str(REPLY_TIMEOUT)) as stack:
        stack.prepare()
        stack.start(workers=2)

        def restart_redis(load: Load) -> int:
            when_booked(load, 1 / 3, tickets)
            own_redis.kill()  # every queued message with it
            time.sleep(2)  # tickets and answers still come in meanwhile
            own_redis.start()  # empty
            return 1

        run(stack, database_url, tickets, "Redis killed and started again mid-load",
            restart_redis)


@pytest.mark.parametrize("database_url", [
    pytest.param("sqlite", marks=pytest.mark.skip(
        reason="SQLite is a file the processes open themselves: there is no database "
               "connection to cut")),
    "postgres"], indirect=True)
def test_database_cut_answers_503_then_recovers_without_a_restart(tmp_path, database_url,
                                                                  own_redis):
    tickets = 150
    server = urllib.parse.urlsplit(database_url)
    with TcpProxy((server.hostname, server.port or 5432)) as proxy, \
            Stack(tmp_path, proxy.url(database_url), own_redis.url,
                  VENDOR_REPLY_TIMEOUT_SECONDS=str(REPLY_TIMEOUT)) as stack:
        stack.prepare()
        stack.start(workers=2)
        pids = [proc.pid for proc in stack.procs]

        probes: list[tuple[int, object, str | None]] = []

        def cut(load: Load) -> int:
            when_booked(load, 1 / 3, tickets)
            proxy.cut()  # refuse new connections, reset the open ones
            until = time.monotonic() + CUT_SECONDS
            while time.monotonic() < until:  # the load's requests meet it too, and retry
                probes.append(once("GET", f"{stack.base}/api/tickets?perPage=1",
                                   headers=load.headers))
                time.sleep(0.1)
            proxy.accept()
            return 1

        load, figures = run(stack, database_url, tickets, "database connection cut mid-load",
                            cut)
        # Meanwhile every request was answered at once with a 503 and the contract's error
        # body: the probes, and the load's own (it fails on any answer but 2xx and 503).
        assert len(probes) >= 10 and [status for status, _, _ in probes] == [503] * len(probes)
        assert all(unavailable(answer, retry_after) for _, answer, retry_after in probes)
        assert load.http["503_without_error_body"] == 0
        assert load.http["reset"] == load.http["timeout"] == 0
        print(f"  during the {CUT_SECONDS:.0f} s cut: {len(probes)} probes answered 503 with "
              f"the error body; {proxy.dropped} open connections reset")
        # The same processes carry on: nothing was restarted.
        assert [proc.pid for proc in stack.procs] == pids and stack.retired == []
        stack.check_alive()


def test_sigterm_to_web_and_workers_mid_burst_finishes_in_flight_work(tmp_path, database_url,
                                                                      own_redis):
    """A deploy's stop: SIGTERM to the web server and a worker, twice, while tickets pour in;
    each old process finishes what it holds and exits 0, a new one starts at once. Through a
    fake Twilio: every message the database holds as sent was sent exactly once."""
    tickets = 150
    twilio = FakeTwilio()
    twilio.start()
    try:
        with Stack(tmp_path, database_url, own_redis.url,
                   VENDOR_REPLY_TIMEOUT_SECONDS=str(REPLY_TIMEOUT),
                   TWILIO_ACCOUNT_SID=twilio.account_sid, TWILIO_AUTH_TOKEN=twilio.auth_token,
                   TWILIO_FROM_NUMBER="+15005550006", TWILIO_API_BASE=twilio.base_url) as stack:
            stack.prepare()
            stack.start(workers=2)
            stopped = []

            def sigterm(load: Load) -> int:
                for share, n in ((1 / 3, 0), (2 / 3, 1)):
                    when_booked(load, share, tickets)
                    web = next(p for p in stack.procs if p.name == "web"
                               and p not in stack.retired)
                    for proc in (web, stack.workers[n]):
                        stack.restart(proc, signal.SIGTERM)
                        stopped.append(proc)
                return len(stopped)

            load, _ = run(stack, database_url, tickets, "SIGTERM to web and workers mid-burst",
                          sigterm, webhook_token=twilio.auth_token)
            for proc in stopped:  # each stopped cleanly, within its grace
                assert proc.popen.wait(30) == 0, proc.tail()
            # Every request the web server took was answered: no try that was reset or timed
            # out reached the app (its request id is in no log). Tries refused, or reset from
            # the listen queue of a server shutting down, never reached it; the load retried.
            logs = "".join(proc.log_path.read_text(errors="replace") for proc in stack.procs
                           if proc.name == "web")
            taken = [rid for rid in load.http.unanswered if f"[{rid}]" in logs]
            assert taken == [] and load.http["timeout"] == 0, load.http.counts
            print(f"  tries refused: {load.http['refused']}; reset before the app read them "
                  f"(a closing server's listen queue): {len(load.http.unanswered)}; reset "
                  f"after the app took them: {len(taken)}")
            database = Database(database_url)
            sent_rows = [row[0] for row in database.rows(
                "SELECT provider_id FROM message WHERE direction = 'outbound'"
                " AND status <> 'replied' AND provider_id IS NOT NULL")]
            database.close()
        sent = Counter(resource["sid"] for resource in twilio.created)
        assert sorted(sent) == sorted(sent_rows) and set(sent.values()) == {1}
        print(f"  sent through the fake Twilio: {len(sent)} messages, each once "
              f"({len(twilio.requests)} requests)")
    finally:
        twilio.stop()
