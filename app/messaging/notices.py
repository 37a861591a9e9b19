"""Who is told what when a ticket is booked, escalated, cancelled or completed, or an offer
lapses; each notice is queued once (a replayed event sends nothing twice)."""

from __future__ import annotations

from peewee import SQL, fn

from app.config import Config
from app.messaging import outbound, templates
from app.models import Appointment, Event, Landlord, Ping, Property, Tenant, Ticket, Vendor
from app.prepared import Param, Prepared


def _filled_offers():
    """Whether a booking closed offers of the visit's ticket as filled (usually not: one vendor
    is asked at a time)."""
    offer = Ping.alias("filled_offer")
    return fn.EXISTS(offer.select(SQL("1")).where(offer.ticket == Appointment.ticket,
                                                   offer.outcome == "filled"))


# A visit with its ticket, vendor, and the ticket's property, tenant and landlord, and whether
# it has filled offers to tell: one statement.
VISIT = Prepared(lambda: Appointment.select(Appointment, Ticket, Vendor, Property, Tenant,
                                            Landlord, _filled_offers().alias("filled_offers"))
                 .join(Ticket, on=Appointment.ticket)
                 .join(Property, on=Ticket.property).switch(Ticket)
                 .join(Tenant, on=Ticket.tenant).switch(Ticket)
                 .join(Landlord, on=Ticket.landlord).switch(Appointment)
                 .join(Vendor, on=Appointment.vendor)
                 .where(Appointment.id == Param("id")).limit(1))

FILLED = Prepared(lambda: Ping.select(Ping, Vendor).join(Vendor).where(
    Ping.ticket == Param("ticket"), Ping.outcome == "filled"))
NEWEST_OFFER = Prepared(lambda: Ping.select().where(
    Ping.ticket == Param("ticket"), Ping.vendor == Param("vendor"))
    .order_by(Ping.id.desc()).limit(1))


def ticket_link(ticket: Ticket, config: Config) -> str:
    """Where the landlord sees the ticket (PUBLIC_BASE_URL when set)."""
    return f"{config.link_base}/tickets/{ticket.id}"


def _tell(ticket: Ticket, event: Event, who: str, to: str, body: str,
          recipient: tuple[str, int]) -> None:
    outbound.queue(landlord=ticket.landlord_id, to=to, body=body, ticket=ticket,
                   recipient=recipient, dedupe_key=f"event:{event.id}:{who}")


def escalated(ticket: Ticket, reason: str, event: Event, config: Config) -> None:
    """The landlord learns why and where to look; the tenant that a person is on it."""
    landlord, tenant = ticket.landlord, ticket.tenant
    to_landlord = templates.escalated_landlord(ticket, reason, ticket_link(ticket, config))
    _tell(ticket, event, "landlord", landlord.phone, to_landlord, ("landlord", landlord.id))
    if config.smtp_url and landlord.email:  # without a mail server the SMS is enough
        outbound.queue(landlord=ticket.landlord_id, to=landlord.email, body=to_landlord,
                       channel="email", ticket=ticket, recipient=("landlord", landlord.id),
                       dedupe_key=f"event:{event.id}:landlord:email")
    _tell(ticket, event, "tenant", tenant.phone,
          templates.escalated_tenant(ticket, lang=tenant.language), ("tenant", tenant.id))


def still_nobody(ticket: Ticket, reason: str, event: Event, config: Config) -> None:
    """The landlord of an escalated ticket learns that asking again booked nobody."""
    _tell(ticket, event, "landlord", ticket.landlord.phone,
          templates.still_nobody_landlord(ticket, reason, ticket_link(ticket, config)),
          ("landlord", ticket.landlord_id))


def booked_by(event: Event, ticket: Ticket) -> str:
    """Who booked, for the landlord's text: "vendor" (their YES), "you" (the landlord by hand),
    "api" (the landlord's API key) or a name."""
    kind, _, ident = event.actor.partition(":")
    if kind == "vendor":
        return "vendor"
    if kind == "landlord" and ident == str(ticket.landlord_id):
        return "api" if event.data.get("method") == "api" else "you"
    return {"api": "api", "system": "Fixline"}.get(kind, event.actor)


def _code_for(ticket: Ticket, vendor: Vendor) -> str | None:
    """The job code of the vendor's newest offer of this ticket, if they had one."""
    offer = NEWEST_OFFER.first(ticket=ticket, vendor=vendor)
    return offer.code if offer is not None else None


def _vendor_phone(vendor: Vendor) -> str | None:
    return next(iter(vendor.phones), None)


def booked(event: Event, config: Config) -> None:
    """After appointment.confirmed: tell tenant and landlord who booked whom; a vendor booked
    by hand (no YES of theirs) gets the job; the other vendors still waiting, that it is
    filled."""
    appointment = VISIT.first(id=event.data.get("appointmentId"))
    if appointment is None:
        return
    ticket, vendor = appointment.ticket, appointment.vendor
    landlord, tenant = ticket.landlord, ticket.tenant
    by = booked_by(event, ticket)
    to_tenant = (templates.booked_tenant if by == "vendor"
                 else templates.booked_tenant_by_landlord)
    _tell(ticket, event, "tenant", tenant.phone,
          to_tenant(ticket, vendor, appointment, lang=tenant.language), ("tenant", tenant.id))
    _tell(ticket, event, "landlord", landlord.phone,
          templates.booked_landlord(ticket, vendor, appointment, ticket_link(ticket, config),
                                    booked_by=by),
          ("landlord", landlord.id))
    # a YES was answered with the job already; a vendor booked by hand is sent it
    phone = _vendor_phone(vendor) if by != "vendor" else None
    if phone is not None:
        _tell(ticket, event, "vendor", phone,
              templates.vendor_booked(ticket, appointment, landlord, _code_for(ticket, vendor),
                                      lang=vendor.language),
              ("vendor", vendor.id))
    for ping in FILLED.rows(ticket=ticket) if appointment.filled_offers else ():
        if ping.vendor_id == vendor.id:  # their offer closed because they were booked
            continue
        _tell(ticket, event, f"filled:{ping.id}", ping.to_number,
              templates.job_filled(ping.code, lang=ping.vendor.language),
              ("vendor", ping.vendor_id))


def offer_lapsed(ping: Ping) -> None:
    """An SMS offer timed out: tell the vendor it expired and that a late YES may still win.

    Only offers sent by SMS: a vendor called by voice pressed nothing, so nothing was booked,
    and their number may take no texts. One message per ping (after a replay too).
    """
    if ping.channel != "sms":
        return
    outbound.queue(landlord=ping.ticket.landlord_id, to=ping.to_number,
                   body=templates.offer_lapsed(ping.code, lang=ping.vendor.language),
                   ticket=ping.ticket,
                   recipient=("vendor", ping.vendor_id), dedupe_key=f"lapsed:{ping.id}")


def cancelled(event: Event) -> None:
    """After ticket.cancelled: the tenant, the booked vendor and every vendor whose open offer
    it closed are told (with the landlord's reason, when given)."""
    ticket = Ticket.find(event.ticket_id)
    if ticket is None:
        return
    reason = event.data.get("reason")
    visit = Appointment.find(event.data.get("appointmentId"))
    vendor = visit.vendor if visit is not None else None
    tenant = ticket.tenant
    _tell(ticket, event, "tenant", tenant.phone,
          templates.cancelled_tenant(ticket, vendor, reason, lang=tenant.language),
          ("tenant", tenant.id))
    phone = _vendor_phone(vendor) if vendor is not None else None
    if phone is not None:
        _tell(ticket, event, "vendor", phone,
              templates.cancelled_vendor(ticket, visit, _code_for(ticket, vendor), reason,
                                         lang=vendor.language),
              ("vendor", vendor.id))
    for ping_id in event.data.get("pingIds") or []:
        offer = Ping.find(ping_id)
        if offer is not None:
            _tell(ticket, event, f"offer:{offer.id}", offer.to_number,
                  templates.offer_cancelled(offer.code, reason, lang=offer.vendor.language),
                  ("vendor", offer.vendor_id))


def completed(event: Event) -> None:
    """After ticket.completed without a visit: the tenant is told the job is marked done (a
    visit's completion asks them to rate it instead: visits.finish)."""
    ticket = Ticket.find(event.ticket_id)
    if ticket is None or event.data.get("appointmentId") is not None:
        return
    visit = None
    tenant = ticket.tenant
    _tell(ticket, event, "tenant", tenant.phone,
          templates.completed_tenant(ticket, visit.vendor if visit is not None else None,
                                     lang=tenant.language),
          ("tenant", tenant.id))
