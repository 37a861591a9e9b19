"""Dispatch: offer a ticket to a vendor (a ping) by SMS or call."""

from __future__ import annotations

import secrets
from datetime import timedelta

from app import clock, events
from app.booking import alerts, transitions
from app.config import Config
from app.db import transaction
from app.joined import joined
from app.messaging import outbound, replies, spend, templates
from app.models import Ping, Ticket, Vendor
from app.prepared import Param, Prepared

CODE_ALPHABET = "ACDEFHJKMNPRTVWXY3479"  # no look-alikes: 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V
CODE_LENGTH = 4
OPEN_CODES = Prepared(lambda: Ping.select(Ping.code).where(
    Ping.vendor == Param("vendor"), Ping.outcome == "pending").tuples())
PINGS_OF = Prepared(lambda: Ping.select(Ping, Vendor).join(Vendor).where(
    Ping.ticket == Param("ticket")).order_by(Ping.id))
PENDING_FOR = Prepared(lambda: Ping.select(Ping.id).where(
    Ping.ticket == Param("ticket"), Ping.vendor == Param("vendor"), Ping.outcome == "pending")
    .limit(1))
OFFERED = Prepared(lambda: Vendor.update(last_offered_at=Param("at", Vendor.last_offered_at))
                   .where(Vendor.id == Param("id")))


class PingRefused(Exception):
    """The vendor cannot be asked (retired, opted out, no phone) or the job is not open."""


def job_link(token: str, config: Config) -> str:
    """The vendor's job page for one offer (CONTRACT.md §9), absolute."""
    return f"{config.link_base}/j/{token}"


def pings_of(ticket: Ticket) -> list[Ping]:
    """Every offer of a ticket, oldest first, with its vendor loaded."""
    return PINGS_OF.rows(ticket=ticket)


def new_code(vendor: Vendor) -> str:
    """A short job code, distinct from the codes of the vendor's open pings, and never one a
    reply would read as a time ("NEXT", "TMRW": see replies.TIME_TOKEN)."""
    if hasattr(vendor, "open_codes"):  # read with the vendor (selection.next_up)
        taken = set((vendor.open_codes or "").split(","))
    else:
        taken = {code for (code,) in OPEN_CODES.rows(vendor=vendor)}
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken and not replies.TIME_TOKEN.match(code):
            return code


def refusal(ticket: Ticket, vendor: Vendor) -> str | None:
    """Why this vendor cannot be offered this ticket now, or None when it can."""
    if not vendor.active:
        return f"vendor {vendor.id} is retired (active=false)"
    if vendor.opted_out:
        return f"vendor {vendor.id} has opted out of messages (they can text START)"
    if ticket.status in transitions.NO_OFFERS:
        return f"ticket {ticket.id} is {ticket.status}; there is no job to offer"
    return None


def send_ping(ticket: Ticket, vendor: Vendor, channel: str, config: Config, actor: str,
              *, manual: bool = False, event_data: dict | None = None) -> Ping:
    """Offer ticket to vendor: ping, outbound message and `vendor.pinged` in one transaction.

    The ping expires after config.vendor_reply_timeout seconds. The vendor's specialties are
    not checked (a landlord may ask anyone by hand); raises PingRefused when refusal() says so.
    A manual ping (a person's, through the API) counts to the landlord's SMS_HOURLY_LIMIT
    (spend.OverLimit) and is refused while that vendor's ping on the ticket is pending.
    event_data adds fields to `vendor.pinged` (selection.demotion: demoted and why).
    """
    reason = refusal(ticket, vendor)
    # read with the vendor when selection.next_up chose it
    phones = ([vendor.first_phone] if getattr(vendor, "first_phone", None) else vendor.phones)
    if reason is None and not phones:
        reason = f"vendor {vendor.id} has no phone number"
    if reason is not None:
        raise PingRefused(reason)
    now = clock.now()
    cap = config.sms_hourly_limit if manual else None
    # A person's offer may be refused midway (its limit, a pending offer) and the refusal
    # caught; the system's is part of its caller's transaction (ask_next catches nothing here).
    with transaction() if manual else joined():
        if cap is not None:
            spend.reserve(ticket.landlord_id, cap)  # locks the landlord: one at a time
            if PENDING_FOR.scalar(ticket=ticket, vendor=vendor) is not None:
                raise PingRefused(f"{vendor.name} still has this job's offer pending; wait "
                                  "for their answer or for it to time out")
        code = new_code(vendor)
        token = secrets.token_urlsafe(24)  # 192 random bits: the job page's only key
        ping = Ping.create(ticket=ticket, vendor=vendor, channel=channel, code=code,
                           to_number=phones[0], sent_at=now, outcome="pending", token=token,
                           expires_at=now + timedelta(seconds=config.vendor_reply_timeout))
        body = (templates.vendor_offer_spoken(ticket, code, lang=vendor.language)
                if channel == "voice"
                else templates.vendor_offer(ticket, code, job_link(token, config),
                                            lang=vendor.language))
        message = outbound.queue(landlord=ticket.landlord_id, to=ping.to_number, body=body,
                                 channel=channel, ticket=ticket, ping=ping,
                                 recipient=("vendor", vendor.id), cap=cap)
        OFFERED.execute(id=vendor.id, at=now)
        if manual:  # the landlord asking someone by hand has seen the escalation
            alerts.landlord_acted(ticket, "manual ping", actor)
        vendor.last_offered_at = now
        events.emit("vendor.pinged", ticket=ticket, actor=actor, vendor=vendor.name,
                    vendorId=vendor.id, channel=channel, code=code, pingId=ping.id,
                    messageId=message.id, expiresAt=clock.isoformat(ping.expires_at),
                    **(event_data or {}))
    return ping
