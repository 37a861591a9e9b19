"""Live pages (app/feed.py, app/web/live.py): a change wakes the waiting requests at once.

The feed tests need a Redis server (TEST_REDIS_URL); the stub-Redis tests run anywhere.
"""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
import redis

from app import feed
from app.booking import transitions
from app.db import transaction
from app.models import Tenant
from app.web import live

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="no Redis server: set TEST_REDIS_URL")


@pytest.fixture
def real_feed(app):
    """A live feed on TEST_REDIS_URL for this test (the app itself runs on stub://)."""
    if not REDIS_URL:
        pytest.skip("no Redis server configured: set TEST_REDIS_URL to run this")
    installed = feed.Feed(feed.client_factory(REDIS_URL), max_waits=8)
    previous = feed.use(installed)
    assert installed.live(), "the feed's listener did not subscribe"
    yield installed
    installed.stop()
    feed.use(previous)


def tenant_of(ticket):
    return Tenant.get_by_id(ticket.tenant_id)


def status_url(ticket, suffix: str = "") -> str:
    return f"/intake/{tenant_of(ticket).intake_token}/tickets/{ticket.id}{suffix}"


def seen_key(html: str) -> str:
    found = re.search(r'hx-vals=\'\{"seen": "([^"]*)"\}\'', html)
    assert found, html[:500]
    return found.group(1).replace("\\u0026", "&")


def in_thread(call):
    """Run call() in a thread; returns (thread, box) where box gets result and finished-at."""
    box: dict = {}

    def run():
        box["result"] = call()
        box["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def book(ticket) -> float:
    """Move a dispatching ticket to scheduled (its event after commit); the commit's time."""
    with transaction():
        transitions.change_status(ticket, "scheduled", actor="test")
    return time.monotonic()


def wait_until_held(current: feed.Feed, count: int = 1, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while current.held < count:
        assert time.monotonic() < deadline, "the request was never held"
        time.sleep(0.01)


# ---- the feed itself, on a real Redis ---------------------------------------------------------

@needs_redis
def test_a_notice_wakes_a_waiter_of_its_ticket_and_landlord_within_milliseconds():
    current = feed.Feed(feed.client_factory(REDIS_URL))
    try:
        assert current.live()
        with current.hold([("ticket", 41)]) as by_ticket, \
                current.hold([("landlord", 7)]) as by_landlord, \
                current.hold([("ticket", 42), ("landlord", 8)]) as other:
            sent = time.monotonic()
            current.changed(7, 41)
            assert by_ticket.wait(2.0) and by_landlord.wait(2.0)
            took = time.monotonic() - sent
            assert not other.wait(0.2)  # another ticket, another landlord: not woken
        assert took < 0.25, f"woken after {took:.3f} s"
        assert current.held == 0
    finally:
        current.stop()


@needs_redis
def test_notices_carry_only_ids_on_a_channel_per_landlord():
    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    current = feed.Feed(feed.client_factory(REDIS_URL))
    pubsub.subscribe(feed.channel(5, current.space))
    try:
        time.sleep(0.1)
        current.changed(5, 99)
        message = None
        deadline = time.monotonic() + 2
        while message is None and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
        assert current.space == f"{redis.connection.parse_url(REDIS_URL).get('db', 0)}:"
        assert message is not None
        assert message["channel"] == f"fixline:feed:{current.space}5".encode()
        assert message["data"] == b"99"
    finally:
        pubsub.close()
        client.close()


@needs_redis
def test_the_cap_refuses_a_waiter_beyond_it_and_frees_its_place_after():
    current = feed.Feed(feed.client_factory(REDIS_URL), max_waits=2)
    try:
        first, second = current.hold([("ticket", 1)]), current.hold([("ticket", 2)])
        assert first is not None and second is not None
        assert current.hold([("ticket", 3)]) is None
        with first:
            pass
        with current.hold([("ticket", 3)]) as third:
            assert third is not None
        second.__exit__(None, None, None)
        assert current.held == 0
    finally:
        current.stop()


def test_without_redis_the_feed_does_nothing():
    assert feed.configure("stub://").live() is False
    assert feed.current().hold([("ticket", 1)]) is None
    feed.changed(1, 1)  # no publisher, no error
    assert feed.configure("redis://127.0.0.1:1/0", {"LIVE_UPDATES": "0"}).configured is False


# ---- the pages' waiting endpoints ----------------------------------------------------------

def test_a_change_answers_the_tenants_waiting_request_at_once(real_feed, app, seeded, client,
                                                              make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    page = client.get(status_url(ticket))
    html = page.get_data(as_text=True)
    assert 'id="ticket-status-feed"' in html and f"/tickets/{ticket.id}/changes\"" in html
    assert 'hx-trigger="every 20s"' in html  # the slow fallback poll
    key = seen_key(html)
    waiter = app.test_client()
    thread, box = in_thread(lambda: waiter.get(status_url(ticket, "/changes"),
                                               query_string={"seen": key},
                                               headers={"HX-Request": "true"}))
    wait_until_held(real_feed)
    committed = book(ticket)
    thread.join(5)
    answer = box["result"]
    took = box["at"] - committed
    assert answer.status_code == 200
    assert 'data-state="booked"' in answer.get_data(as_text=True)
    assert took < 0.5, f"answered {took:.3f} s after the change"


def test_nothing_changed_in_time_answers_204_asking_again(real_feed, app, seeded, client,
                                                         make_ticket, monkeypatch):
    monkeypatch.setattr(live, "WAIT_SECONDS", 0.5)
    ticket = make_ticket(seeded, "dispatching")
    key = seen_key(client.get(status_url(ticket)).get_data(as_text=True))
    started = time.monotonic()
    answer = client.get(status_url(ticket, "/changes"), query_string={"seen": key})
    assert answer.status_code == 204 and answer.headers["HX-Trigger"] == live.AGAIN
    assert time.monotonic() - started >= 0.45
    assert real_feed.held == 0


def test_a_stale_key_answers_at_once(real_feed, app, seeded, client, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    started = time.monotonic()
    answer = client.get(status_url(ticket, "/changes"), query_string={"seen": "old"})
    assert answer.status_code == 200 and time.monotonic() - started < 2
    assert 'id="ticket-status-feed"' in answer.get_data(as_text=True)


def test_a_tenant_cannot_wait_on_another_tenants_ticket(real_feed, app, seeded, client,
                                                        make_ticket):
    mine = make_ticket(seeded, "dispatching")
    others = [t for t in Tenant.select() if t.id != mine.tenant_id]
    theirs = make_ticket(seeded, "dispatching", tenant=others[0], property=others[0].property)
    url = f"/intake/{tenant_of(mine).intake_token}/tickets/{theirs.id}/changes"
    started = time.monotonic()
    assert client.get(url, query_string={"seen": "x"}).status_code == 404
    assert client.get(url.replace(tenant_of(mine).intake_token, "no-such-token")
                      ).status_code == 404
    assert time.monotonic() - started < 2 and real_feed.held == 0


def test_over_the_cap_the_page_is_answered_at_once_and_polls(real_feed, app, seeded, client,
                                                            make_ticket):
    real_feed.max_waits = 0
    ticket = make_ticket(seeded, "dispatching")
    key = seen_key(client.get(status_url(ticket)).get_data(as_text=True))
    started = time.monotonic()
    answer = client.get(status_url(ticket, "/changes"), query_string={"seen": key})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and time.monotonic() - started < 2
    assert 'id="ticket-status-feed"' not in html and 'hx-trigger="every 2s"' in html


def dashboard_keys(html: str, *, parts: bool = False) -> dict[str, str]:
    """The board's waiting request's arguments: the version and minute it shows (and, with
    parts, the digests of its parts, which ask for the changed parts alone)."""
    found = re.search(r'id="board-feed"[^>]*hx-get="/dashboard/changes'
                      r'\?v=(\w+)&amp;t=(\d+)&amp;p=([\w.]+)"', html)
    assert found, html[:800]
    keys = {"v": found.group(1), "t": found.group(2)}
    return keys | {"p": found.group(3)} if parts else keys


def test_a_change_answers_its_landlords_waiting_dashboard_and_not_another(
        real_feed, app, seeded, landlord_client, other_client, make_ticket, monkeypatch):
    monkeypatch.setattr(live, "WAIT_SECONDS", 2.0)
    if time.gmtime().tm_sec >= 54:  # the board changes at each minute: keep clear of one
        time.sleep(61 - time.gmtime().tm_sec)
    ticket = make_ticket(seeded, "dispatching")
    mine = dashboard_keys(landlord_client.get("/dashboard").get_data(as_text=True))
    theirs = dashboard_keys(other_client.get("/dashboard").get_data(as_text=True))
    held_mine, box_mine = in_thread(lambda: landlord_client.get("/dashboard/changes",
                                                                query_string=mine))
    held_theirs, box_theirs = in_thread(lambda: other_client.get("/dashboard/changes",
                                                                 query_string=theirs))
    wait_until_held(real_feed, 2)
    committed = book(ticket)
    held_mine.join(5)
    held_theirs.join(5)
    took = box_mine["at"] - committed
    assert box_mine["result"].status_code == 200 and took < 0.5, took
    assert f"ticket-link-{ticket.id}" in box_mine["result"].get_data(as_text=True)
    # the other landlord's request was not woken: it ran its time out with nothing to show
    assert box_theirs["result"].status_code == 204
    assert box_theirs["at"] - committed > 1.0


def test_a_change_sends_a_waiting_dashboard_only_the_parts_that_changed(
        real_feed, app, seeded, landlord_client, make_ticket, monkeypatch):
    monkeypatch.setattr(live, "WAIT_SECONDS", 2.0)
    if time.gmtime().tm_sec >= 54:  # the board changes at each minute: keep clear of one
        time.sleep(61 - time.gmtime().tm_sec)
    ticket = make_ticket(seeded, "dispatching")
    page = landlord_client.get("/dashboard").get_data(as_text=True)
    keys = dashboard_keys(page, parts=True)
    assert "hx-get" not in re.search(r'<div id="board"[^>]*>', page).group(0)  # board-poll polls
    held, box = in_thread(lambda: landlord_client.get("/dashboard/changes", query_string=keys))
    wait_until_held(real_feed)
    book(ticket)
    held.join(5)
    answer = box["result"]
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert answer.headers["HX-Retarget"] == "#board-feed"
    assert answer.headers["HX-Reswap"] == "outerHTML"
    swapped = re.findall(r'<div id="(part-[\w-]+)" class="board-part" hx-swap-oob="true">', html)
    # the ticket left "Finding a vendor" for "Scheduled"; the counts in the metrics moved
    assert {"part-group-dispatching", "part-group-scheduled", "part-metrics"} <= set(swapped)
    assert "part-group-escalated" not in swapped and "part-stuck" not in swapped
    assert 'id="board"' not in html and f"ticket-link-{ticket.id}" in html
    # the new waiting element (main content) and fallback poll carry the new board's keys
    assert html.startswith('<span id="board-feed"') and 'id="board-poll"' in html
    again = dashboard_keys(html, parts=True)
    assert again["v"] != keys["v"] and again["p"] != keys["p"]
    # asked with what it now shows, the page is not sent those parts again
    assert landlord_client.get("/dashboard", query_string={"v": again["v"], "t": again["t"]},
                               headers={"HX-Request": "true", "HX-Target": "board"}
                               ).status_code == 204


def test_a_page_showing_other_parts_gets_the_whole_board(real_feed, app, seeded,
                                                         landlord_client, make_ticket,
                                                         monkeypatch):
    monkeypatch.setattr(live, "WAIT_SECONDS", 2.0)
    ticket = make_ticket(seeded, "dispatching")
    keys = dashboard_keys(landlord_client.get("/dashboard").get_data(as_text=True), parts=True)
    keys["p"] = "0" + keys["p"][1:]  # a layout this server does not render
    held, box = in_thread(lambda: landlord_client.get("/dashboard/changes", query_string=keys))
    wait_until_held(real_feed)
    book(ticket)
    held.join(5)
    html = box["result"].get_data(as_text=True)
    assert "HX-Retarget" not in box["result"].headers
    assert html.startswith('<div id="board"') and "part-group-escalated" in html


def test_a_waiting_dashboard_does_not_count_as_use(app):
    from app.web import auth

    assert "dashboard.changes" in app.view_functions
    assert "dashboard.changes" in auth.WAITING_ENDPOINTS  # like a poll: the session may idle out


# ---- without Redis pub/sub (REDIS_URL=stub://) the pages poll as before --------------------

def test_with_stub_redis_the_pages_render_and_poll(app, seeded, client, landlord_client,
                                                   make_ticket):
    assert not feed.current().live()
    ticket = make_ticket(seeded, "dispatching")
    html = client.get(status_url(ticket)).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in html and "ticket-status-feed" not in html
    key = seen_key(html)
    started = time.monotonic()
    answer = client.get(status_url(ticket, "/changes"), query_string={"seen": key})
    assert answer.status_code == 200 and time.monotonic() - started < 2
    assert 'hx-trigger="every 2s"' in answer.get_data(as_text=True)
    board = landlord_client.get("/dashboard").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in board and "board-feed" not in board
    polled = landlord_client.get("/dashboard/changes", query_string={"v": "x", "t": "0"})
    assert polled.status_code == 200 and "board-feed" not in polled.get_data(as_text=True)


# ---- one board render for every dashboard of a landlord woken at once ----------------------

def test_dashboards_woken_together_share_one_render_each_with_its_own_csrf_token():
    from app.web.dashboard import Boards

    boards, made, start = Boards(), [], threading.Event()

    def make(placeholder: str) -> str:
        made.append(placeholder)
        time.sleep(0.1)  # the others arrive while it renders
        return f"<form><input name=csrf_token value={placeholder}></form>"

    results: list[str] = []

    def ask() -> None:
        start.wait()
        results.append(boards.get(("db", 1, "v1", "t1", True, True), make))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(5)
    assert len(made) == 1 and len(results) == 10 and set(results) == {results[0]}
    assert boards.placeholder in results[0]
    boards.get(("db", 1, "v2", "t1", True, True), make)  # another version: rendered anew
    assert len(made) == 2


def test_a_shared_board_carries_each_sessions_own_csrf_token(real_feed, app, seeded,
                                                               landlord_client, login,
                                                               make_ticket):
    from app.seed import DEMO_EMAIL, DEMO_PASSWORD
    from app.web.dashboard import boards

    second = app.test_client()
    assert login(second, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303
    make_ticket(seeded, "dispatching")
    pages = [c.get("/dashboard/changes", query_string={"v": "old", "t": "0"})
             for c in (landlord_client, second)]
    for page in pages:
        assert page.status_code == 200
        assert boards.placeholder not in page.get_data(as_text=True)
