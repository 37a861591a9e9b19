"""The message log: the landlord's messages in and out, filterable by ticket, paginated."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from app.models import Message
from app.web.messages import PER_PAGE

START = datetime(2024, 7, 2, 15, 0)  # 10:00 CDT


def message(landlord, n: int = 0, **fields) -> Message:
    values = dict(landlord=landlord, direction="outbound", channel="sms",
                  to_number="+13145550100", from_number="+15005550006",
                  body=f"message {n}", status="sent", created_at=START + timedelta(minutes=n))
    values.update(fields)
    return Message.create(**values)


def bodies(html: str) -> list[str]:
    return re.findall(r'<td class="body">(.*?)</td>', html, re.S)


@pytest.mark.parametrize("path", ["/messages/", "/messages/?ticket=1&page=2"])
def test_the_log_needs_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_every_message_in_and_out_is_listed(landlord_client, seeded, make_ticket, other_landlord):
    ticket = make_ticket(seeded)
    message(seeded, 1, ticket=ticket, body="Reply YES K7Q2 <now>")
    message(seeded, 2, direction="inbound", to_number="+15005550006",
            from_number="+1234567893", body="YES K7Q2", status="received", ticket=ticket)
    message(seeded, 3, channel="email", to_number="john.smith@example.com", from_number=None,
            body="Weekly summary", status="stored")
    message(other_landlord, 4, body="Not for John")
    response = landlord_client.get("/messages/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert bodies(html) == ["Weekly summary", "YES K7Q2", "Reply YES K7Q2 &lt;now&gt;"]
    assert "Not for John" not in html
    assert "inbound" in html and "email" in html and "+1234567893" in html
    assert "received" in html and "stored" in html
    assert "Jul 2, 2024 10:02 CDT" in html  # the ticket's property time zone
    assert f'href="/tickets/{ticket.id}">#{ticket.id}</a>' in html
    assert "3 messages" in html and "<caption" in html and 'scope="col"' in html


def test_filter_by_ticket(landlord_client, seeded, make_ticket):
    ticket, other = make_ticket(seeded), make_ticket(seeded)
    message(seeded, 1, ticket=ticket, body="about the first")
    message(seeded, 2, ticket=other, body="about the second")
    message(seeded, 3, body="about nothing")
    html = landlord_client.get(f"/messages/?ticket={ticket.id}").get_data(as_text=True)
    assert bodies(html) == ["about the first"]
    assert f"about ticket #{ticket.id}" in html and f'value="{ticket.id}"' in html


def test_another_landlords_ticket_cannot_be_filtered_on(landlord_client, other_landlord,
                                                       make_ticket):
    theirs = make_ticket(other_landlord)
    message(other_landlord, 1, ticket=theirs, body="their secret")
    response = landlord_client.get(f"/messages/?ticket={theirs.id}")
    assert response.status_code == 404 and b"their secret" not in response.data


def test_a_ticket_filter_that_is_not_a_number_is_explained(landlord_client, seeded):
    message(seeded, 1)
    response = landlord_client.get("/messages/?ticket=abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A ticket number is a whole number" in html and 'aria-invalid="true"' in html
    assert 'value="abc"' in html and bodies(html) == ["message 1"]


def test_pages(landlord_client, seeded):
    for n in range(PER_PAGE + 7):
        message(seeded, n)
    first = landlord_client.get("/messages/").get_data(as_text=True)
    assert len(bodies(first)) == PER_PAGE and bodies(first)[0] == f"message {PER_PAGE + 6}"
    assert "page 1 of 2" in first and 'href="/messages/?page=2"' in first
    assert 'rel="prev"' not in first
    second = landlord_client.get("/messages/?page=2").get_data(as_text=True)
    assert bodies(second) == [f"message {n}" for n in range(6, -1, -1)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    beyond = landlord_client.get("/messages/?page=99").get_data(as_text=True)
    assert "page 2 of 2" in beyond  # past the end: the last page
    assert landlord_client.get("/messages/?page=-1").status_code == 200


def test_page_links_replace_only_the_log(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded)
    for n in range(PER_PAGE + 1):
        message(seeded, n, ticket=ticket)
    whole = landlord_client.get(f"/messages/?ticket={ticket.id}").get_data(as_text=True)
    link = f"/messages/?page=2&amp;ticket={ticket.id}"
    assert f'hx-get="{link}"' in whole and 'hx-target="#message-log"' in whole
    fragment = landlord_client.get(f"/messages/?ticket={ticket.id}&page=2",
                                   headers={"HX-Request": "true", "HX-Target": "message-log"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="message-log"') and "<html" not in html
    assert bodies(html) == ["message 0"]
    boosted = landlord_client.get("/messages/?page=2",
                                  headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def to_and_from(html: str) -> list[tuple[str, str]]:
    """Each row's To and From cells, tags removed."""
    rows = re.findall(r"<tr>\s*<td><time.*?</td>\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>"
                      r"\s*<td>(.*?)</td>", html, re.S)
    return [tuple(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in row)
            for row in rows]


def test_numbers_are_named_when_they_are_the_landlords_people(
        landlord_client, seeded, other_landlord):
    from app.booking.vendors import create_vendor

    create_vendor(other_landlord, dict(name="Their Secret Plumber", phones=["+13145550199"],
                                       specialties=["plumbing"], hours="24/7", priority=1))
    message(seeded, 1, to_number="+1234567891", body="to a tenant")
    message(seeded, 2, direction="inbound", to_number="+15005550006",
            from_number="+1234567893", body="from a vendor", status="received")
    message(seeded, 3, direction="inbound", to_number="+15005550006",
            from_number="+1234567890", body="from the landlord", status="received")
    message(seeded, 4, to_number="+13145550199", body="to a stranger")
    rows = to_and_from(landlord_client.get("/messages/").get_data(as_text=True))
    assert rows == [
        ("+13145550199", "Fixline +15005550006"),  # another landlord's vendor stays a number
        ("Fixline +15005550006", "You +1234567890"),
        ("Fixline +15005550006", "Acme Plumbing vendor · +1234567893"),
        ("Alice Johnson tenant · +1234567891", "Fixline +15005550006"),
    ]


def test_the_log_scrolls_in_a_focusable_named_region(landlord_client, seeded):
    html = landlord_client.get("/messages/").get_data(as_text=True)
    scrollers = re.findall(r'<div class="scroll"[^>]*>', html)
    assert scrollers and all('tabindex="0"' in tag and 'role="region"' in tag
                             and "aria-label=" in tag for tag in scrollers)
