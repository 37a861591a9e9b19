"""Who is told what (issue 9): a vendor booked by hand gets the job and the landlord's text says
who booked; cancel and complete tell the people involved; a lapsed offer is announced. Every
notice is queued once, however often its event is replayed."""

from __future__ import annotations

import pytest

from app import events
from app.booking import closing, loop, sweep
from app.booking.appointments import book
from app.config import Config
from app.messaging import templates
from app.models import Event, Message
from tests.engine.conftest import events_of, fresh, messages_to, pending


@pytest.fixture
def dispatched(bus, intake, make_vendor):
    """A routine plumbing ticket: Ann holds the offer, Bob is next."""
    make_vendor("Ann")
    make_vendor("Bob")
    ticket = intake(window="today 2-5pm")
    assert bus.run_events() == 1
    return ticket


def bodies(kind: str, ticket) -> list[str]:
    return [m.body for m in messages_to(kind, ticket)]


def replay_sends_nothing(config) -> None:
    before = Message.select().count()
    events.replay(config)
    assert Message.select().count() == before


def test_a_vendor_booked_by_hand_gets_the_job_and_the_landlord_is_told_who_booked(
        dispatched, bus, make_vendor, landlord, config):
    ann_offer = pending(dispatched)
    cy = make_vendor("Cy", phones=["+15550109999"])
    book(fresh(dispatched), cy, None, None, "manual", f"landlord:{landlord.id}", config=Config())
    bus.run_events()

    ticket, tenant = fresh(dispatched), dispatched.tenant
    [to_cy] = [m for m in messages_to("vendor", ticket) if m.recipient_id == cy.id]
    assert to_cy.to_number == "+15550109999"
    for fact in (ticket.property.address, tenant.name, tenant.phone, "Lana Lord", "plumbing",
                 landlord.phone, "today 2-5pm"):
        assert fact in to_cy.body
    [to_landlord] = bodies("landlord", ticket)
    assert to_landlord.startswith("Fixline: you booked Cy for the routine plumbing job")
    assert "took" not in to_landlord
    [to_tenant] = bodies("tenant", ticket)
    assert "your landlord booked Cy" in to_tenant
    # Ann's open offer was overtaken: she is told it is filled, by another vendor.
    assert templates.job_filled(ann_offer.code) in bodies("vendor", ticket)
    replay_sends_nothing(config)


def test_booking_by_hand_the_vendor_who_holds_the_offer_names_its_code(
        dispatched, bus, landlord, config):
    ann_offer = pending(dispatched)
    book(fresh(dispatched), ann_offer.vendor, None, None, "manual", f"landlord:{landlord.id}",
         config=Config())
    bus.run_events()
    to_ann = [m.body for m in messages_to("vendor", dispatched)
              if m.recipient_id == ann_offer.vendor_id and m.ping_id is None]
    assert len(to_ann) == 1 and to_ann[0].startswith(f"Fixline job {ann_offer.code}: Lana Lord "
                                                     "booked you for")
    assert not any("filled" in body for body in to_ann)  # booked, not filled by another


def test_a_booking_through_the_api_says_so(dispatched, bus, make_vendor, landlord):
    cy = make_vendor("Cy")
    book(fresh(dispatched), cy, None, None, "api", f"landlord:{landlord.id}", config=Config())
    bus.run_events()
    [to_landlord] = bodies("landlord", dispatched)
    assert to_landlord.startswith("Fixline: Cy was booked through the API for the routine")


def test_a_vendors_yes_still_reads_took_the_job(dispatched, bus, config):
    offer = pending(dispatched)
    loop.accept(offer.id, "sms", config)
    bus.run_events()
    [to_landlord] = bodies("landlord", dispatched)
    assert to_landlord.startswith("Fixline: Ann took the routine plumbing job")
    # the vendor learnt the job from the answer to their YES: no second text
    assert [m.ping_id for m in messages_to("vendor", dispatched)] == [offer.id]


def test_cancel_with_a_reason_tells_tenant_and_booked_vendor(dispatched, bus, config, landlord):
    offer = pending(dispatched)
    loop.accept(offer.id, "sms", config)
    bus.run_events()
    sent = Message.select().count()

    closing.cancel(fresh(dispatched), actor=f"landlord:{landlord.id}",
                   reason="  Tenant fixed it \u2019herself\u2019  ")
    bus.run_events()
    [event] = events_of(dispatched, "ticket.cancelled")
    assert event.data["reason"] == "Tenant fixed it \u2019herself\u2019"
    assert events.summarize(event) == "Ticket cancelled: Tenant fixed it \u2019herself\u2019"
    new = list(Message.select().where(Message.id > sent).order_by(Message.id))
    assert {(m.recipient_type, m.to_number) for m in new} == {
        ("tenant", dispatched.tenant.phone), ("vendor", offer.to_number)}
    for message in new:
        assert "Reason: Tenant fixed it 'herself'." in message.body  # GSM-7 quotes
        assert message.body.isascii()
    [to_vendor] = [m.body for m in new if m.recipient_type == "vendor"]
    assert offer.code in to_vendor and "do not go" in to_vendor
    replay_sends_nothing(config)


def test_cancel_without_a_reason_tells_the_vendor_holding_the_open_offer(
        dispatched, bus, config, landlord):
    offer = pending(dispatched)
    closing.cancel(fresh(dispatched), actor=f"landlord:{landlord.id}")
    bus.run_events()
    [event] = events_of(dispatched, "ticket.cancelled")
    assert (event.data["reason"], event.data["pingIds"]) == (None, [offer.id])
    assert events.summarize(event) == "Ticket cancelled"
    assert bodies("vendor", dispatched)[-1] == templates.offer_cancelled(offer.code, None)
    assert "cancelled your plumbing repair request" in bodies("tenant", dispatched)[-1]


def test_a_reason_past_500_characters_is_refused_and_nothing_changes(dispatched, landlord):
    with pytest.raises(closing.ReasonTooLong):
        closing.cancel(fresh(dispatched), actor=f"landlord:{landlord.id}", reason="x" * 501)
    assert fresh(dispatched).status == "dispatching"
    assert not events_of(dispatched, "ticket.cancelled")


def test_complete_tells_the_tenant(dispatched, bus, config, landlord):
    loop.accept(pending(dispatched).id, "sms", config)
    bus.run_events()
    closing.complete(fresh(dispatched), actor=f"landlord:{landlord.id}")
    bus.run_events()
    assert fresh(dispatched).status == "completed"
    [event] = events_of(dispatched, "ticket.completed")
    assert event.actor == f"landlord:{landlord.id}"
    assert bodies("tenant", dispatched)[-1] == (
        "Fixline: your landlord marked your plumbing repair done. Is it fixed? Reply 1-5 to "
        "rate the visit (5 = great), or NOT FIXED.")
    [done] = events_of(dispatched, "appointment.completed")
    assert done.actor == f"landlord:{landlord.id}"
    replay_sends_nothing(config)


def test_a_lapsed_offer_is_announced_once(dispatched, bus, config, fake_clock):
    offer = pending(dispatched)
    fake_clock.advance(config.vendor_reply_timeout + 1)
    assert sweep.run(config)["expired"] == 1
    lapsed = [m for m in messages_to("vendor", dispatched) if m.dedupe_key == f"lapsed:{offer.id}"]
    assert [(m.to_number, m.body) for m in lapsed] == [(offer.to_number, (
        f"Fixline job {offer.code}: the offer expired and the job is not booked yet. Reply "
        f"YES {offer.code} if you can still take it."))]
    assert not loop.lapse(offer.id, "timed_out", config)  # once only
    replay_sends_nothing(config)
    assert Message.select().where(Message.dedupe_key == f"lapsed:{offer.id}").count() == 1


def test_an_undeliverable_or_voice_offer_gets_no_lapse_text(bus, intake, make_vendor, config,
                                                            fake_clock):
    make_vendor("Ann")
    make_vendor("Vic", preferred_channel="voice")
    ticket = intake()
    bus.run_events()
    ann = pending(ticket)
    assert loop.lapse(ann.id, "failed", config)
    vic = pending(ticket)
    assert vic.channel == "voice"
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    assert fresh(ticket).status == "dispatching"  # Vic did not answer: asked again later
    assert not Message.select().where(Message.dedupe_key.startswith("lapsed:")).exists()
    assert Event.select().where(Event.type == "vendor.timed_out").count() == 1
