"""The handler table: what happens after each event that has a consequence.

`vendor.confirmed` has no handler of its own: the winning YES records it and creates the
appointment in one transaction (loop.accept), so no crash can leave one without the other.
"""

from __future__ import annotations

from app import events
from app.booking import loop
from app.config import Config
from app.messaging import media, notices
from app.models import Event


@events.handles("intake.completed")
def start_dispatch(event: Event, config: Config) -> None:
    """A new ticket: start asking vendors (a second delivery finds it already started)."""
    loop.start(event.ticket_id, config)


@events.handles("appointment.confirmed")
def notify_booking(event: Event, config: Config) -> None:
    """Tell tenant and landlord, and every vendor still holding an offer that it is filled."""
    notices.booked(event, config)


@events.handles("ticket.cancelled")
def notify_cancelled(event: Event, config: Config) -> None:
    """Tell the tenant, the booked vendor and vendors with an open offer (with the reason)."""
    notices.cancelled(event)


@events.handles("ticket.completed")
def notify_completed(event: Event, config: Config) -> None:
    """Tell the tenant the job is marked done."""
    notices.completed(event)


@events.handles("photos.received")
def fetch_vendor_photos(event: Event, config: Config) -> None:
    """Photos a vendor sent with DONE by MMS: fetched from Twilio and kept with the ticket
    (a failure is retried, then parked, like any handler's)."""
    media.fetch_photos(event.ticket_id, event.data.get("urls") or [], config)


@events.handles("notification.failed")
def offer_undeliverable(event: Event, config: Config) -> None:
    """An offer the provider gave up on counts as no answer: ask the next vendor now."""
    ping_id = event.data.get("pingId")
    if ping_id is not None:
        loop.lapse(ping_id, "failed", config)
