"""What a vendor's job link may show now (CONTRACT.md §9 "Job page"): read from the rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.booking import loop, visit_times, visits
from app.i18n import gettext
from app.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Event, Ping, Ticket, TicketPhoto
from app.web import uploads

LINK_DAYS = 30  # a job link stops working this long after its ticket closed
OFFERED = (*loop.ANSWERABLE, "declined")  # a vendor may still take the job (loop.accept)
OPEN_TICKET = (*loop.BOOKABLE, "new")
UNIT = re.compile(
    r"[\s,]*(?P<unit>\b(?:apartment|apt|unit|suite|ste|flat|room|rm)\b\.?\s*#?\s*[a-z0-9][\w-]*"
    r"|#\s*[a-z0-9][\w-]*)\s*(?=,|$)", re.IGNORECASE)


def street_and_unit(address: str) -> tuple[str, str | None]:
    """'123 Main Street Apt 1A' → ('123 Main Street', 'Apt 1A'); the unit is the last
    designator (Apt, Apartment, Unit, Suite, Ste, Flat, Room, #) ending the address or one of
    its comma-separated parts. An address that is nothing but a unit is returned whole."""
    found = next(reversed(list(UNIT.finditer(address))), None)
    if found is None:
        return address.strip(), None
    street = (address[:found.start()] + address[found.end():]).strip(" ,")
    if not street:
        return address.strip(), None
    return re.sub(r"\s*,\s*,", ",", street), found.group("unit").strip()


@dataclass(frozen=True)
class Job:
    """One job link's state: offer | held | done | handed_back | no_show | taken | cancelled |
    closed; visit is the vendor's own (active when held, completed when done)."""

    state: str
    ping: Ping
    ticket: Ticket
    visit: Appointment | None = None
    by_vendor: bool = True  # handed_back: the vendor gave it back (else the landlord cancelled)


def expired(ticket: Ticket, now: datetime) -> bool:
    """A closed ticket's links stop working LINK_DAYS after it closed."""
    if ticket.status not in ("completed", "cancelled"):
        return False
    closed = ticket.completed_at if ticket.status == "completed" else ticket.cancelled_at
    return now - (closed or ticket.updated_at) > timedelta(days=LINK_DAYS)


def job_of(ping: Ping) -> Job:
    """The state of the job as this ping's vendor may see it."""
    ticket = Ticket.get_by_id(ping.ticket_id)
    if ticket.status == "cancelled":
        return Job("cancelled", ping, ticket)
    held = visits.held_by(ticket, ping.vendor_id)
    if held is not None:
        return Job("held", ping, ticket, held)
    own = (Appointment.select()
           .where(Appointment.ticket == ticket, Appointment.vendor == ping.vendor_id)
           .order_by(Appointment.id.desc())
           .first())
    if own is not None and own.status == "completed":
        return Job("done", ping, ticket, own)
    if own is not None and own.status == "cancelled":
        return Job("handed_back", ping, ticket, own, by_vendor=_handed_back_by_vendor(own))
    if own is not None and own.status == "no_show":
        return Job("no_show", ping, ticket, own)
    if ping.outcome == "filled" or _taken_by_another(ticket, ping.vendor_id):
        return Job("taken", ping, ticket)
    if ping.outcome in OFFERED and ticket.status in OPEN_TICKET:
        return Job("offer", ping, ticket)
    return Job("closed", ping, ticket)


def _taken_by_another(ticket: Ticket, vendor_id: int) -> bool:
    return (Appointment.select()
            .where(Appointment.ticket == ticket, Appointment.vendor != vendor_id,
                   Appointment.status.in_((*ACTIVE_APPOINTMENT_STATUSES, "completed")))
            .exists())


def _handed_back_by_vendor(visit: Appointment) -> bool:
    """Whether the vendor (not the landlord) cancelled this visit (appointment.cancelled)."""
    for event in (Event.select()
                  .where(Event.ticket == visit.ticket_id, Event.type == "appointment.cancelled")
                  .order_by(Event.id.desc())):
        if event.data.get("appointmentId") == visit.id:
            return event.data.get("by") == "vendor"
    return True


def photos_shown(job: Job) -> list[TicketPhoto]:
    """The photos the page shows, and the only ones its photo route serves: the tenant's
    while the job is offered or held, every photo once this vendor finished it."""
    if job.state == "done":
        return uploads.photos_of(job.ticket)
    if job.state in ("offer", "held"):
        return [photo for photo in uploads.photos_of(job.ticket) if photo.source == "tenant"]
    return []


def visit_span(visit: Appointment, tz: str) -> str:
    """'Wed Mar 4, 2 PM – 5 PM' on the property's clock (the end's day only when it differs)."""
    if visit.starts_at is None:
        return ""
    start = visit_times.local_text(visit.starts_at, tz)
    if visit.ends_at is None:
        return start
    end = visit_times.local_text(visit.ends_at, tz)
    same_day = end.rsplit(", ", 1)[0] == start.rsplit(", ", 1)[0]
    return f"{start} – {end.rsplit(', ', 1)[1] if same_day else end}"


def visit_status(visit: Appointment) -> str:
    """Where the visit time stands with the tenant."""
    if visit.starts_at is None:
        return gettext("No time set yet: set one below.")
    if visit.time_refused_at is not None:
        return gettext("The tenant cannot make this time: set another one below.")
    if visit.status == "confirmed":
        return gettext("Confirmed by the tenant.")
    return gettext("Tentative: the tenant has been asked to confirm.")
