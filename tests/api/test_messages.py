"""Messages: only yours, newest first, filtered by recipient address or ticket."""

from datetime import datetime, timedelta

import pytest

from app.models import Message
from tests.api.conftest import error_of, make_ticket

T0 = datetime(2030, 5, 1, 12, 0)


def message(landlord, minutes, to="+15550001234", **fields) -> Message:
    values = dict(landlord=landlord, direction="outbound", channel="sms", to_number=to,
                  body=f"at {minutes}", created_at=T0 + timedelta(minutes=minutes))
    values.update(fields)
    return Message.create(**values)


def test_newest_first_with_every_field(client, auth, landlord, other_landlord):
    ticket = make_ticket(landlord)
    old = message(landlord, 1)
    new = message(landlord, 5, direction="inbound", to="+15550009999",
                  from_number="+15550001234", provider_id="SM123", ticket=ticket,
                  status="received")
    message(other_landlord, 3)
    listed = client.get("/api/messages", headers=auth).json
    assert [m["id"] for m in listed] == [new.id, old.id]
    assert listed[0] == {
        "id": new.id, "direction": "inbound", "channel": "sms", "to": "+15550009999",
        "from": "+15550001234", "body": "at 5", "segments": 1, "status": "received",
        "providerId": "SM123",
        "ticketId": ticket.id, "createdAt": "2030-05-01T12:05:00.000Z",
    }


def test_filter_by_to_reads_the_number_as_a_phone(client, auth, landlord):
    wanted = message(landlord, 1, to="+15550007777")
    message(landlord, 2)
    for given in ("+15550007777", "+1 (555) 000-7777", "15550007777"):
        listed = client.get("/api/messages", query_string={"to": given}, headers=auth).json
        assert [m["id"] for m in listed] == [wanted.id]


def test_filter_by_email_address(client, auth, landlord):
    wanted = message(landlord, 1, to="ops@example.com", channel="email")
    listed = client.get("/api/messages?to=ops@example.com", headers=auth).json
    assert [m["id"] for m in listed] == [wanted.id]


def test_filter_by_ticket_and_limit(client, auth, landlord, other_landlord):
    ticket = make_ticket(landlord)
    linked = [message(landlord, i, ticket=ticket) for i in range(3)]
    message(landlord, 9)
    listed = client.get(f"/api/messages?ticketId={ticket.id}&limit=2", headers=auth).json
    assert [m["id"] for m in listed] == [linked[2].id, linked[1].id]
    theirs = make_ticket(other_landlord)
    message(other_landlord, 1, ticket=theirs)
    assert client.get(f"/api/messages?ticketId={theirs.id}", headers=auth).json == []


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("ticketId=abc", "ticketId"),
])
def test_bad_query_is_422(client, auth, query, field):
    response = client.get(f"/api/messages?{query}", headers=auth)
    assert response.status_code == 422 and field in error_of(response)["fields"]


@pytest.mark.parametrize("body, channel, segments", [
    ("a" * 160, "sms", 1), ("a" * 161, "sms", 2),
    ("“quoted” " * 10, "sms", 2),  # curly quotes: UCS-2, 67 characters a part
    ("a" * 500, "voice", None),
])
def test_each_message_shows_its_segments(client, auth, landlord, body, channel, segments):
    message(landlord, 1, body=body, channel=channel)
    [shown] = client.get("/api/messages", headers=auth).json
    assert shown["segments"] == segments
