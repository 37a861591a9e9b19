"""The landlord dashboard: scoping, order, SLA clocks, the self-updating board, metrics, chart."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from app import clock
from app.booking import transitions
from app.db import transaction
from app.models import Ticket
from app.web.charts import Bar, bar_chart, duration

NOW = datetime(2024, 5, 6, 15, 0, 30)
SVG = "{http://www.w3.org/2000/svg}"
POLL_HEADERS = {"HX-Request": "true", "HX-Target": "board", "HX-Trigger": "board",
                "HX-Current-URL": "http://localhost/dashboard"}


@pytest.fixture
def frozen(app):
    """The clock stands still at NOW (move it with clock.set_fake)."""
    clock.set_fake(NOW)
    yield NOW
    clock.set_fake(None)


def text(response) -> str:
    return response.get_data(as_text=True)


def poll_url(page: str) -> str:
    """The URL the board polls, as htmx reads it from the hx-get attribute."""
    return html.unescape(re.search(r'<div id="board"[^>]*hx-get="([^"]+)"', page).group(1))


def row(page: str, ticket: Ticket) -> str:
    """The board row of one ticket."""
    found = re.search(rf'<tr[^>]*>\s*<th[^>]*><a id="ticket-link-{ticket.id}".*?</tr>', page, re.S)
    assert found, f"ticket {ticket.id} is not on the board"
    return found.group(0)


def change(ticket: Ticket, status: str) -> None:
    with transaction():
        transitions.change_status(ticket, status, actor="test")


def test_the_dashboard_needs_login(client):
    answer = client.get("/dashboard")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/dashboard"


def test_each_landlord_sees_only_their_own_tickets(
        frozen, landlord_client, other_client, seeded, other_landlord_with_password, make_ticket):
    mine = make_ticket(seeded, "escalated")
    theirs = make_ticket(other_landlord_with_password, "escalated")
    for client, shown, hidden, secret in (
            (landlord_client, mine, theirs, "Otto Other"),
            (other_client, theirs, mine, "Alice Johnson")):
        for answer in (client.get("/dashboard"), client.get("/dashboard", headers=POLL_HEADERS)):
            page = text(answer)
            assert f'href="/tickets/{shown.id}"' in page
            assert f'href="/tickets/{hidden.id}"' not in page
            assert f'id="ticket-link-{hidden.id}"' not in page
            assert secret not in page


def test_escalations_come_first_then_dispatching_new_scheduled_closed(
        frozen, landlord_client, seeded, make_ticket):
    made = {status: make_ticket(seeded, status) for status in
            ("completed", "scheduled", "new", "cancelled", "dispatching", "escalated")}
    page = text(landlord_client.get("/dashboard"))
    headings = [page.index(f'id="group-{key}"') for key in
                ("escalated", "dispatching", "new", "scheduled", "closed")]
    assert headings == sorted(headings)
    where = {status: page.index(f'id="ticket-link-{ticket.id}"') for status, ticket in made.items()}
    assert (where["escalated"] < where["dispatching"] < where["new"] < where["scheduled"]
            < min(where["completed"], where["cancelled"]))
    assert where["escalated"] < headings[1]  # under its own heading, before the next group


def test_escalated_emergencies_come_first_then_the_longest_waiting_with_their_reason(
        frozen, landlord_client, seeded, make_ticket):
    hour = timedelta(hours=1)
    old_routine = make_ticket(seeded, "escalated", severity="routine", category="pest",
                              created_at=NOW - 9 * hour)
    new_routine = make_ticket(seeded, "escalated", severity="routine", created_at=NOW - 5 * hour)
    # Reported last and escalated last: still the first thing the landlord sees.
    emergency = make_ticket(seeded, "escalated", severity="emergency", created_at=NOW - hour)
    Ticket.update(escalation_reason="no vendor matches this job's category and hours").where(
        Ticket.id == emergency.id).execute()
    page = text(landlord_client.get("/dashboard"))
    where = [page.index(f'id="ticket-link-{t.id}"') for t in (emergency, old_routine, new_routine)]
    assert where == sorted(where)
    assert "no vendor matches this job&#39;s category and hours" in row(page, emergency)
    assert 'class="escalation-reason">test<' in row(page, old_routine)


def test_sla_clocks(frozen, landlord_client, seeded, make_ticket):
    minute = timedelta(minutes=1)
    running = make_ticket(seeded, "dispatching", created_at=NOW - 2 * minute)  # 300 s SLA
    soon = make_ticket(seeded, "dispatching", created_at=NOW - 4 * minute)
    overdue = make_ticket(seeded, "new", created_at=NOW - 7 * minute)
    routine = make_ticket(seeded, "new", severity="routine", created_at=NOW - 30 * minute)
    booked = make_ticket(seeded, "scheduled", created_at=NOW - 60 * minute, booked_after=250)
    escalated = make_ticket(seeded, "escalated", created_at=NOW - 10 * minute)
    cancelled = make_ticket(seeded, "cancelled")
    page = text(landlord_client.get("/dashboard"))

    assert "3 min left" in row(page, running) and "sla-running" in row(page, running)
    assert '<time datetime="2024-05-06T15:03:30Z">' in row(page, running)
    assert "1 min left" in row(page, soon) and "sla-soon" in row(page, soon)
    assert "overdue by 2 min" in row(page, overdue) and "sla-overdue" in row(page, overdue)
    assert "1 h 30 min left" in row(page, routine) and ">30 min<" in row(page, routine)
    assert "booked in 4 min" in row(page, booked) and "sla-booked" in row(page, booked)
    assert ">1 h<" in row(page, booked)  # its age
    assert "escalated 10 min ago" in row(page, escalated)
    assert "cancelled before booking" in row(page, cancelled)
    for ticket in (running, soon, overdue, routine, booked, escalated, cancelled):
        assert 'data-label="Property">123 Main Street Apt 1A<' in row(page, ticket)
        assert 'data-label="Tenant">Alice Johnson<' in row(page, ticket)
        assert 'data-label="Category">plumbing<' in row(page, ticket)


def test_the_poll_gets_the_board_alone(frozen, landlord_client, seeded, make_ticket):
    make_ticket(seeded, "dispatching")
    page = landlord_client.get("/dashboard")
    assert "<html" in text(page) and 'id="board-news"' in text(page)
    assert "HX-Request" in page.headers["Vary"]
    assert landlord_client.get(poll_url(text(page)), headers=POLL_HEADERS).status_code == 204
    boosted = landlord_client.get("/dashboard",
                                  headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in text(boosted)  # a boosted link gets the whole page
    first = landlord_client.get("/dashboard", headers=POLL_HEADERS)  # no version: render
    fragment = text(first)
    assert first.status_code == 200
    assert fragment.lstrip().startswith('<div id="board"')
    board_tag = re.search(r'<div id="board"[^>]*>', fragment).group(0)
    assert 'hx-target="this"' in board_tag and 'hx-swap="outerHTML"' in board_tag
    assert 'hx-disinherit="*"' in board_tag  # ticket links must not swap their page in here
    assert "<html" not in fragment and "<nav" not in fragment and "<h1" not in fragment
    assert "HX-Request" in first.headers["Vary"] and "HX-Target" in first.headers["Vary"]
    assert first.headers["Cache-Control"] == "no-store"


def test_a_poll_that_finds_nothing_new_gets_204_and_a_change_gets_200(
        frozen, landlord_client, seeded, other_landlord, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    url = poll_url(text(landlord_client.get("/dashboard")))
    for _ in range(2):
        quiet = landlord_client.get(url, headers=POLL_HEADERS)
        assert quiet.status_code == 204
        assert quiet.get_data() == b""

    make_ticket(other_landlord, "escalated")  # another landlord's news wakes nobody here
    assert landlord_client.get(url, headers=POLL_HEADERS).status_code == 204

    change(ticket, "escalated")  # same (frozen) instant: the event id tells it apart
    news = landlord_client.get(url, headers=POLL_HEADERS)
    fragment = text(news)
    assert news.status_code == 200
    escalated = fragment[fragment.index('id="group-escalated"'):fragment.index('id="group-new"')]
    assert f'id="ticket-link-{ticket.id}"' in escalated
    assert '<p id="board-news" hx-swap-oob="innerHTML">Tickets updated: 1 escalated, ' in fragment

    next_url = poll_url(fragment)
    assert next_url != url
    assert landlord_client.get(next_url, headers=POLL_HEADERS).status_code == 204


def test_a_new_ticket_shows_up_on_the_next_poll(frozen, landlord_client, seeded, make_ticket):
    url = poll_url(text(landlord_client.get("/dashboard")))
    assert landlord_client.get(url, headers=POLL_HEADERS).status_code == 204
    ticket = make_ticket(seeded, "new")
    news = landlord_client.get(url, headers=POLL_HEADERS)
    assert news.status_code == 200 and f'id="ticket-link-{ticket.id}"' in text(news)


def test_a_passing_deadline_re_renders_and_a_minute_re_renders_quietly(
        frozen, landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching", created_at=NOW - timedelta(seconds=200))
    url = poll_url(text(landlord_client.get("/dashboard")))

    clock.set_fake(NOW + timedelta(seconds=20))  # same minute, deadline not reached
    assert landlord_client.get(url, headers=POLL_HEADERS).status_code == 204

    clock.set_fake(NOW + timedelta(seconds=60))  # next minute: the clocks move, silently
    ticked = text(landlord_client.get(url, headers=POLL_HEADERS))
    assert "under 1 min left" in row(ticked, ticket)
    assert "hx-swap-oob" not in ticked  # nothing happened worth announcing
    url = poll_url(ticked)

    clock.set_fake(NOW + timedelta(seconds=101))  # the SLA deadline passes
    overdue = landlord_client.get(url, headers=POLL_HEADERS)
    assert overdue.status_code == 200
    assert "overdue by" in row(text(overdue), ticket)
    assert "hx-swap-oob" in text(overdue)


def test_the_live_region_is_separate_from_the_board(frozen, landlord_client, seeded):
    page = text(landlord_client.get("/dashboard"))
    board = page[page.index('<div id="board"'):]
    assert page.count("aria-live") == 1
    assert "aria-live" not in board  # swapping the board re-announces nothing
    assert re.search(r'<p id="board-news"[^>]*role="status"[^>]*aria-live="polite"', page)


def test_the_page_is_accessible_and_csp_clean(frozen, landlord_client, seeded, make_ticket):
    make_ticket(seeded, "scheduled", booked_after=90)
    answer = landlord_client.get("/dashboard")
    page = text(answer)
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert not re.search(r"\sstyle=", page) and "<style" not in page
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)  # no inline script
    assert re.search(r"\son[a-z]+=", page) is None  # no inline handlers
    assert '<main id="main">' in page and '<nav aria-label="Main">' in page
    assert page.count("<h1") == 1
    assert '<caption class="visually-hidden">Scheduled: 1 ticket</caption>' in page
    assert '<th scope="col" role="columnheader">SLA</th>' in page
    assert '<th scope="row" role="rowheader">' in page
    assert 'aria-current="page"' in page  # the nav marks the dashboard


def test_metrics_show_counts_and_percentiles(frozen, landlord_client, seeded, make_ticket):
    hour = timedelta(hours=1)
    for seconds, response in ((60, 30), (120, 45), (600, None)):
        ticket = make_ticket(seeded, "scheduled", created_at=NOW - hour, booked_after=seconds)
        if response is not None:
            (Ticket.update(first_response_at=ticket.created_at + timedelta(seconds=response))
             .where(Ticket.id == ticket.id).execute())
    make_ticket(seeded, "escalated")
    make_ticket(seeded, "new")
    make_ticket(seeded, "new")
    page = text(landlord_client.get("/dashboard"))

    def count(status: str) -> str:
        return re.search(rf'tally-{status}"><dt>{status}</dt><dd>(\d+)</dd>', page).group(1)

    assert (count("scheduled"), count("escalated"), count("new"), count("dispatching")) == (
        "3", "1", "2", "0")
    assert re.search(r"<dt>total</dt><dd>6</dd>", page)
    booked = re.search(r"<th scope=\"row\">Booked</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", booked) == ["2 min", "10 min", "3"]  # p50, p90, n
    first = re.search(r"<th scope=\"row\">First vendor answer</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", first) == ["30 s", "45 s", "2"]


def test_the_chart_is_valid_svg_of_the_latest_30_bookings(
        frozen, landlord_client, seeded, make_ticket):
    made = [make_ticket(seeded, "completed", created_at=NOW - timedelta(hours=40 - i),
                        booked_after=60 * (i + 1), category="hvac" if i % 2 else "lock")
            for i in range(32)]
    make_ticket(seeded, "dispatching")  # unbooked: not charted
    page = text(landlord_client.get("/dashboard"))
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Time to book, last 30 booked tickets"
    bars = svg.findall(f".//{SVG}rect")
    assert len(bars) == 30
    titles = [bar.find(f"{SVG}title").text for bar in bars]
    assert titles[0] == f"Ticket #{made[2].id}, lock (emergency): booked in 3 min"
    assert titles[-1] == f"Ticket #{made[-1].id}, hvac (emergency): booked in 32 min"
    assert all("emergency" in bar.get("class") for bar in bars)
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Time to book" in labels and "Booked tickets, oldest to newest" in labels
    heights = [float(bar.get("height")) for bar in bars]
    assert heights == sorted(heights) and heights[0] > 0


def test_chart_text_is_escaped_and_the_markup_is_xml():
    hostile = '</title><script>alert("x")</script>&amp; <b>'
    markup = bar_chart([Bar(seconds=90, label=hostile, title=hostile, css_class='x" onload="y'),
                        Bar(seconds=4000, label="#2", title="plain")],
                       title=hostile, description=hostile, x_label=hostile, y_label="<y>",
                       chart_id='c"1')
    assert "<script" not in markup and "<b>" not in markup and 'onload="' not in markup
    svg = ET.fromstring(str(markup))
    assert svg.find(f"{SVG}title").text == hostile
    assert svg.find(f"{SVG}desc").text == hostile
    assert [rect.find(f"{SVG}title").text for rect in svg.iter(f"{SVG}rect")] == [hostile, "plain"]
    assert svg.find(f".//{SVG}script") is None
    assert any(t.text == "<y>" for t in svg.iter(f"{SVG}text"))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert "0 min" in ticks and "80 min" in ticks  # 4000 s is charted in minutes


def test_an_empty_chart_says_so():
    svg = ET.fromstring(str(bar_chart([], title="t", description="d", x_label="x", y_label="y")))
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "empty"] == ["No data yet"]
    assert svg.find(f".//{SVG}rect") is None


@pytest.mark.parametrize("seconds, shown", [
    (None, "—"), (0, "0 s"), (9.4, "9 s"), (9.7, "10 s"), (59.9, "59 s"), (60, "1 min"),
    (3599, "59 min"), (3600, "1 h"), (3660, "1 h 1 min"), (86400, "1 d"), (90000, "1 d 1 h"),
    (-5, "0 s"),
])
def test_duration(seconds, shown):
    assert duration(seconds) == shown


def test_the_dashboard_shows_what_was_sent_this_hour(landlord_client, seeded):
    from datetime import timedelta

    from app import clock
    from app.models import Message

    for capped, age in [(True, 0), (True, 10), (False, 20), (True, 4000)]:  # the last: too old
        Message.create(landlord=seeded, direction="outbound", channel="sms", to_number="+1555",
                       body="x", status="stored", capped=capped,
                       created_at=clock.now() - timedelta(seconds=age))
    page = landlord_client.get("/dashboard").get_data(as_text=True)
    assert "Texts and calls in the last hour: <strong>3</strong>" in page
    assert "sent by hand through the API: 2 of your limit of 200 an hour" in page
