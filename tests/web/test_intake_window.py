"""The intake form's "We read this as …" is what the engine will use for the tenant's window."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from markupsafe import escape

from app import clock
from app.booking.windows import interpret, parse_window
from app.models import Tenant, Ticket
from app.web.intake import local_span
from tests.web.test_intake import link, open_form, report, send

MONDAY_9AM = datetime(2026, 12, 7, 15, 0)  # Mon 7 Dec 2026, 09:00 CST
MESSAGE = re.compile(r'<p id="window-msg" class="msg( error)?">(.*)</p>', re.S)


@pytest.fixture
def tenant(seeded) -> Tenant:
    clock.set_fake(MONDAY_9AM)  # the app's conftest restores the real clock
    return Tenant.get(Tenant.name == "Alice Johnson")


def check(client, tenant: Tenant, words: str) -> tuple[bool, str]:
    """(is it an error, the message) the form shows under the window field."""
    _, csrf, _ = open_form(client, tenant)
    response = client.post(f"{link(tenant)}/check/window", data={"window": words},
                           headers={"X-CSRFToken": csrf, "HX-Request": "true"})
    found = MESSAGE.search(response.get_data(as_text=True))
    return bool(found[1]), found[2]


def test_the_echo_names_the_zone_the_tenant_named(client, tenant):
    assert tenant.property.timezone == "America/Chicago"
    assert check(client, tenant, "tomorrow 2-5pm PST") == (
        False, "We read this as Tue Dec 8, 2:00 PM – 5:00 PM PST.")
    assert check(client, tenant, "tomorrow 2-5pm") == (
        False, "We read this as Tue Dec 8, 2:00 PM – 5:00 PM CST.")


@pytest.mark.parametrize("words", [
    "tomorrow 2-5pm PST", "12/05 10am-2pm", "next Tuesday", "now", "ASAP", "3pm",
    "this evening", "weekday mornings", "10pm-2am", "Dec 9 after 6 Eastern", "any time after 5",
])
def test_the_echo_is_what_the_engine_will_use(client, tenant, words):
    tz = tenant.property.timezone
    window = interpret(words, clock.now(), tz)
    error, message = check(client, tenant, words)
    if window is None or window.end <= clock.now():
        assert error and "already passed" in message  # '12/05' said on Dec 7
        return
    assert not error
    span = local_span(window.start, window.end, window.zone)
    assert message == escape(f"We read this as {span}.")
    response = send(client, tenant, report(window=words))
    assert response.status_code == 303
    ticket = Ticket.get_by_id(int(response.headers["Location"].rsplit("/", 1)[1]))
    assert parse_window(ticket.window, ticket.created_at, tz) == (window.start, window.end)


@pytest.mark.parametrize(("words", "error", "note"), [
    ("any time", False, "Any time: the vendor will call you to agree a time."),
    ("whenever", False, "Any time: the vendor will call you to agree a time."),
    ("when the moon is blue", False,
     "We will pass this on to the vendor exactly as you wrote it."),
    ("today 7-8am", True,
     "That time has already passed: tell us when someone can come from now on."),
    ("12/05 10am-2pm", True,
     "That time has already passed: tell us when someone can come from now on."),
])
def test_what_the_form_says_when_there_is_nothing_to_echo(client, tenant, words, error, note):
    assert check(client, tenant, words) == (error, note)


def test_today_after_its_hours_is_refused_not_moved_to_tomorrow(client, tenant):
    clock.set_fake(datetime(2026, 12, 7, 21, 0))  # 3pm CST
    response = send(client, tenant, report(window="today 9-11am"))
    assert response.status_code == 422
    assert "That time has already passed" in response.get_data(as_text=True)
