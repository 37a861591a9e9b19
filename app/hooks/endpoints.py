"""A landlord's webhook endpoints: add (checked address, new secret), list, remove."""

from __future__ import annotations

from peewee import fn

from app import clock
from app.config import Config
from app.db import transaction
from app.hooks import addresses, signing
from app.models import Event, Landlord, WebhookEndpoint

MAX_PER_LANDLORD = 20


class TooMany(ValueError):
    """The landlord already has the most endpoints allowed."""


def add(landlord: Landlord | int, url: str, events: list[str], config: Config,
        description: str | None = None) -> WebhookEndpoint:
    """Create an endpoint that receives the landlord's events from now on.

    addresses.Refused for a URL it may not point at; TooMany past MAX_PER_LANDLORD.
    """
    addresses.check(url, production=config.production)
    landlord_id = landlord if isinstance(landlord, int) else landlord.id
    with transaction():
        if active(landlord_id).count() >= MAX_PER_LANDLORD:
            raise TooMany(f"at most {MAX_PER_LANDLORD} webhooks per account")
        newest = (Event.select(fn.MAX(Event.id)).where(Event.landlord == landlord_id).scalar())
        return WebhookEndpoint.create(
            landlord=landlord_id, url=url, secret=signing.new_secret(),
            events=sorted(set(events)) or ["*"], description=description,
            scan_from_id=newest or 0, created_at=clock.now())


def active(landlord_id: int):
    """The landlord's endpoints, oldest first (disabled ones included)."""
    return (WebhookEndpoint.select().where(WebhookEndpoint.landlord == landlord_id)
            .order_by(WebhookEndpoint.id))


def owned(landlord_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    """The landlord's endpoint with this id, or None."""
    return WebhookEndpoint.get_or_none(WebhookEndpoint.id == endpoint_id,
                                       WebhookEndpoint.landlord == landlord_id)


def remove(endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries: nothing more is sent to it."""
    with transaction():
        WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint.id).execute()


def wants(endpoint_events: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to an event type."""
    return "*" in endpoint_events or event_type in endpoint_events
