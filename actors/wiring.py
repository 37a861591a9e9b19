"""Connects the engine's after-commit hooks to the actors (the only app→actors link)."""

from __future__ import annotations

from app import events
from app.hooks import queueing as webhooks
from app.messaging import outbound


def connect() -> None:
    """Route emitted events and queued messages to their Dramatiq actors."""
    from actors import tasks

    events.set_publisher(lambda event_id: tasks.handle_event.send(event_id))
    webhooks.set_sender(lambda delivery_id: tasks.deliver_webhook.send(delivery_id))
    outbound.set_sender(
        lambda message_id, delay_ms: tasks.send_message.send_with_options(
            args=(message_id,), delay=delay_ms or None
        )
    )
