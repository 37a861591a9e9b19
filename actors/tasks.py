"""Thin actors: each takes ids and calls app.booking / app.messaging; safe to run twice."""

from __future__ import annotations

import dramatiq

from actors import runtime
from app import events
from app.booking import sweep as sweeping
from app.hooks import delivery as webhooks
from app.messaging import outbound


@dramatiq.actor(max_retries=5, min_backoff=200, max_backoff=5000, time_limit=30_000)
def handle_event(event_id: int) -> None:
    """Run the handler of one recorded event."""
    events.handle(event_id, runtime.config())


@dramatiq.actor(max_retries=0, time_limit=30_000)
def send_message(message_id: int) -> None:
    """Deliver one queued message through the configured channel (retries are in outbound)."""
    outbound.deliver(message_id, runtime.config())


# Its own queue and a low priority, so bookings go first; the limit is above the POST's 10 s
# timeout (the sweep hands a delivery whose worker died over again after its lease).
@dramatiq.actor(max_retries=0, time_limit=30_000, queue_name="webhooks", priority=100)
def deliver_webhook(delivery_id: int) -> None:
    """POST one webhook delivery, signed; record the attempt and schedule any retry."""
    webhooks.deliver(delivery_id, runtime.config())


@dramatiq.actor(max_retries=0, time_limit=10_000, max_age=5_000)
def sweep() -> None:
    """Act on everything that is due: the outbox now, deadlines as the engine grows."""
    sweeping.run(runtime.config())
