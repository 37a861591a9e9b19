"""Many machines (issue 12, item 2): two web processes, two workers and two schedulers on the
real PostgreSQL and Redis book 300 tickets, every offer answered by YES webhooks racing through
both web processes; none lost, none doubled, no offer twice, nothing sent twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import REDIS_URL
from tests.integration.load import Database, Load, measure, redis_db, start_webs
from tests.integration.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]  # starts the stack's processes

TICKETS = 300
IN_FLIGHT = 30  # tickets opened (through the web processes in turn) and not yet booked
REPLY_TIMEOUT = 4  # VENDOR_REPLY_TIMEOUT_SECONDS: a third of the tickets wait one out


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A database of TEST_REDIS_URL's server of its own (one below), flushed before and after:
    other tests flush TEST_REDIS_URL's own."""
    if not REDIS_URL:
        pytest.skip("no Redis server configured: set TEST_REDIS_URL to run this")
    import redis

    url = redis_db(REDIS_URL, 1)
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        yield url
        client.flushdb()
    finally:
        client.close()


def test_two_of_each_process_book_300_tickets_with_racing_answers_once_each(
        tmp_path, postgres_url, broker_url):
    with Stack(tmp_path, postgres_url, broker_url,
               VENDOR_REPLY_TIMEOUT_SECONDS=str(REPLY_TIMEOUT)) as stack:
        stack.prepare()
        for _ in range(2):
            stack.start_worker()
            stack.start_scheduler()
        webs = start_webs(stack, 2)  # ready once a worker beats, too
        database = Database(postgres_url)
        load = Load(webs, stack.api_key, stack.webhook_token, database, check=stack.check_alive,
                    logs=stack.logs)
        try:
            load.add_vendors(TICKETS + 40)
            load.start(TICKETS, IN_FLIGHT)
            booked = load.wait_booked(TICKETS, timeout=150)
            settled = load.wait_settled(timeout=45)
        finally:
            load.stop()
        figures = measure(load)
        database.close()
        print(figures.line("many machines, PostgreSQL + Redis, 2 web + 2 workers + 2 schedulers"))

        assert booked and settled and figures.problems() == [], stack.logs()
        assert load.replies["already filled"] > 0  # the races were real: some YES lost them
        assert figures.extra["lapsed"] > 0  # and some offers lapsed before a late YES
        assert dict(load.http.counts) == {}  # no request refused, reset or answered 503
        stack.assert_no_tracebacks()
