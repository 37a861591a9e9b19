"""Which vendors to ask for a ticket, in which order."""

from __future__ import annotations

from datetime import datetime

from app import clock
from app.booking.hours import open_at, overlaps
from app.booking.windows import parse_window
from app.models import Appointment, Event, Ping, Ticket, Vendor, VendorPhone
from app.prepared import Param, Prepared

GAVE_UP = ("cancelled", "no_show")  # visits whose vendor is not asked again for the ticket
ROUND_RESTARTED = "dispatch.restarted"  # the landlord began a new round of asking (loop.redispatch)

LAST_RESTART = Prepared(lambda: Event.select(Event.data).where(
    Event.ticket == Param("ticket"), Event.type == ROUND_RESTARTED).order_by(
    Event.id.desc()).limit(1))
# Order: priority (1 first), then least recently offered any job (fair rotation; the
# timestamp lives on the vendor row, so it holds across restarts and worker processes).
NOT_YET_ASKED = Prepared(lambda: Vendor.select().where(
    Vendor.landlord == Param("landlord"),
    Vendor.active == True,  # noqa: E712
    Vendor.opted_out == False,  # noqa: E712
    Vendor.id.not_in(Ping.select(Ping.vendor).where(Ping.ticket == Param("ticket"),
                                                    Ping.id > Param("after"))),
    Vendor.id.in_(VendorPhone.select(VendorPhone.vendor)),
    # §9: a vendor who handed this job back or did not show is not asked again for it
    Vendor.id.not_in(Appointment.select(Appointment.vendor).where(
        Appointment.ticket == Param("ticket"), Appointment.status.in_(GAVE_UP))),
).order_by(Vendor.priority, Vendor.last_offered_at.asc(nulls="first"), Vendor.id))


def _works_then(vendor: Vendor, ticket: Ticket, now: datetime, tz: str,
                window: tuple[datetime, datetime] | None) -> bool:
    """Emergencies need a vendor working now; routine jobs one whose hours meet the window
    (None: the tenant's words could not be read, so hours cannot rule anyone out)."""
    if ticket.severity == "emergency":
        return open_at(vendor.schedule, now, tz)
    return window is None or overlaps(vendor.schedule, window[0], window[1], tz)


def round_start(ticket: Ticket) -> int:
    """The last ping id before the current round of asking; 0 in the first round."""
    restart = LAST_RESTART.first(ticket=ticket)
    return int(restart.data.get("afterPingId", 0)) if restart else 0


def candidates(ticket: Ticket, now: datetime | None = None) -> list[Vendor]:
    """Vendors still to ask: right trade, reachable, working then, not yet asked in this
    round (a landlord's "dispatch again" can start a new one); best first.

    Ordered as NOT_YET_ASKED says.
    """
    now = now or clock.now()
    tz = ticket.property.timezone
    window = parse_window(ticket.window, ticket.created_at, tz)  # once, not once per vendor
    query = NOT_YET_ASKED.rows(landlord=ticket.landlord_id, ticket=ticket,
                               after=round_start(ticket))
    return [vendor for vendor in query if ticket.category in vendor.specialties
            and _works_then(vendor, ticket, now, tz, window)]


def next_vendor(ticket: Ticket, now: datetime | None = None) -> Vendor | None:
    """The one vendor to ask next, or None when nobody is left."""
    found = candidates(ticket, now)
    return found[0] if found else None
