"""Opt-outs belong to the number (CONTRACT.md §14): STOP from anyone stops everything to it,
START undoes it, and the answers fit who texted."""

from __future__ import annotations

import pytest

from app.booking import loop
from app.booking.vendors import create_vendor
from app.messaging import outbound
from app.models import Event, Message, OptOut, Ping, Vendor
from tests.api.conftest import error_of
from tests.webhooks.conftest import pending, phone, said

STRANGER = "+15557770000"


def notify(client, auth, **body):
    return client.post("/api/notify", json={"message": "Hello", **body}, headers=auth)


@pytest.mark.parametrize("who, expected", [
    ("tenant", "no more texts from Fixline about your repairs"),
    ("landlord", "no more Fixline alerts by text"),
    ("vendor", "no more Fixline jobs"),
    ("stranger", "no more messages from Fixline"),
])
def test_stop_from_anyone_is_registered_and_answered_in_their_words(
        office, text, client, auth, who, expected):
    number = {"tenant": office.tenant.phone, "landlord": office.landlord.phone,
              "vendor": phone(office.vendors["Acme Plumbing"]), "stranger": STRANGER}[who]
    assert expected in said(text(number, "STOP"))
    assert OptOut.get(OptOut.phone == number).word == "STOP"

    stored = Message.select().count()
    refused = notify(client, auth, to=number)
    assert refused.status_code == 409 and error_of(refused)["code"] == "opted_out"
    assert Message.select().count() == stored  # nothing stored to send

    assert "Welcome back" in said(text(number, "START"))
    assert not OptOut.select().where(OptOut.phone == number).exists()
    assert notify(client, auth, to=number).status_code == 202


def test_notify_to_an_opted_out_person_by_recipient_is_409(office, text, client, auth):
    text(office.tenant.phone, "unsubscribe")
    response = notify(client, auth, recipient={"type": "tenant", "id": office.tenant.id})
    assert response.status_code == 409 and error_of(response)["code"] == "opted_out"


def test_engine_notices_to_an_opted_out_tenant_are_never_sent(office, ticket, text, config):
    text(office.tenant.phone, "STOP")
    text(office.vendors["Acme Plumbing"], "YES")  # booked: tenant and landlord are told
    from app.messaging import notices

    notices.booked(Event.get(Event.type == "appointment.confirmed"), config)
    to_tenant = Message.get(Message.to_number == office.tenant.phone,
                            Message.direction == "outbound", Message.status == "queued")
    to_landlord = Message.get(Message.to_number == office.landlord.phone,
                              Message.direction == "outbound", Message.status == "queued")
    assert outbound.deliver(to_tenant.id, config) == "failed"
    assert outbound.deliver(to_landlord.id, config) == "stored"
    tenant_row = Message.get_by_id(to_tenant.id)
    assert tenant_row.provider_id is None and "opted out" in tenant_row.error


def test_an_offer_queued_before_stop_is_not_sent_and_the_next_vendor_is_asked(
        office, ticket, text, config):
    held = pending(ticket)
    offer = Message.get(Message.ping == held)
    OptOut.create(phone=held.to_number, word="STOP")  # STOP arrived on another path meanwhile
    assert outbound.deliver(offer.id, config) == "failed"
    failed = Event.get(Event.type == "notification.failed")
    from app import events

    events.handle(failed.id, config)
    assert Ping.get_by_id(held.id).outcome == "failed"
    assert pending(ticket).vendor.name == "Best Pipes"


def test_a_new_vendor_at_an_opted_out_number_is_never_asked(office, text, landlord, open_job):
    text(STRANGER, "STOP")
    vendor = create_vendor(landlord, {"name": "Newcomer", "phones": [STRANGER],
                                      "specialties": ["hvac"], "priority": 1, "hours": "24/7"})
    assert Vendor.get_by_id(vendor.id).opted_out
    ticket = open_job(category="hvac")
    assert not Ping.select().where(Ping.ticket == ticket).exists()


def test_a_vendors_stop_declines_their_open_offer_and_start_lets_them_be_asked(
        office, ticket, text, config):
    acme = office.vendors["Acme Plumbing"]
    text(acme, "STOP")
    assert Vendor.get_by_id(acme.id).opted_out
    assert pending(ticket).vendor.name == "Best Pipes"
    text(acme, "START")
    assert not Vendor.get_by_id(acme.id).opted_out
    loop.lapse(pending(ticket).id, "timed_out", config)
    assert pending(ticket).vendor.name == "Crest Drains"  # Acme already said no to this one
