"""Who is told what when a ticket is booked or escalated; each notice is queued once."""

from __future__ import annotations

from app.config import Config
from app.messaging import outbound, templates
from app.models import Appointment, Event, Ping, Ticket
from app.prepared import Param, Prepared

FILLED = Prepared(lambda: Ping.select().where(
    Ping.ticket == Param("ticket"), Ping.outcome == "filled"))


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
    _tell(ticket, event, "landlord", landlord.phone,
          templates.escalated_landlord(ticket, reason, ticket_link(ticket, config)),
          ("landlord", landlord.id))
    _tell(ticket, event, "tenant", tenant.phone, templates.escalated_tenant(ticket),
          ("tenant", tenant.id))


def booked(event: Event, config: Config) -> None:
    """After appointment.confirmed: tell tenant and landlord, and the vendors still waiting."""
    appointment = Appointment.find(event.data.get("appointmentId"))
    if appointment is None:
        return
    ticket, vendor = appointment.ticket, appointment.vendor
    landlord, tenant = ticket.landlord, ticket.tenant
    _tell(ticket, event, "tenant", tenant.phone,
          templates.booked_tenant(ticket, vendor, appointment), ("tenant", tenant.id))
    _tell(ticket, event, "landlord", landlord.phone,
          templates.booked_landlord(ticket, vendor, appointment, ticket_link(ticket, config)),
          ("landlord", landlord.id))
    for ping in FILLED.rows(ticket=ticket):
        _tell(ticket, event, f"filled:{ping.id}", ping.to_number, templates.job_filled(ping.code),
              ("vendor", ping.vendor_id))
