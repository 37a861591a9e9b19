"""The periodic sweep: act on whatever is due, using the database as the clock's memory."""

from __future__ import annotations

from app import events
from app.config import Config


def run(config: Config) -> dict[str, int]:
    """One pass over everything due; returns counts by kind (for logs and tests)."""
    republished = sum(1 for event_id in events.undispatched() if events.publish(event_id))
    return {"republished": republished}
