"""Outbound webhooks (CONTRACT.md §12): a landlord's endpoints and their deliveries."""

from __future__ import annotations

from typing import Annotated

from flask import Response, current_app
from pydantic import Field, StringConstraints

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.hooks import addresses, endpoints, queueing
from app.models import Event, Landlord, WebhookAttempt, WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 100
EventType = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z_]+\.[a-z_]+)$", max_length=64)]


class WebhookCreate(s.Schema):
    url: Annotated[str, StringConstraints(max_length=2000, pattern=addresses.URL_PATTERN),
                   Field(description="http(s) only; in production, a public address only")]
    events: Annotated[list[EventType], Field(min_length=1, max_length=50)] = Field(
        default_factory=lambda: ["*"], description='event types, or ["*"] for all')
    description: s.text(200, required=False) | None = None


class WebhookOut(s.Schema):
    id: int
    url: str
    events: list[str]
    description: str | None
    created_at: s.Instant
    failing_since: s.Instant | None
    disabled_at: s.Instant | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="shown only in this answer: keep it to check signatures")


class AttemptOut(s.Schema):
    at: s.Instant
    status: int | None
    duration_ms: int
    response: str
    error: str | None


class DeliveryOut(s.Schema):
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    created_at: s.Instant
    next_attempt_at: s.Instant | None
    delivered_at: s.Instant | None
    gave_up_at: s.Instant | None
    last_status: int | None
    attempts: list[AttemptOut]


def webhook_out(endpoint: WebhookEndpoint, model: type[WebhookOut] = WebhookOut, **extra):
    return model(id=endpoint.id, url=endpoint.url, events=endpoint.events,
                 description=endpoint.description, created_at=endpoint.created_at,
                 failing_since=endpoint.failing_since, disabled_at=endpoint.disabled_at,
                 **extra)


def deliveries_out(deliveries: list[WebhookDelivery]) -> list[DeliveryOut]:
    """Deliveries with their event types and attempts (oldest attempt first)."""
    ids = [delivery.id for delivery in deliveries]
    types = dict(Event.select(Event.id, Event.type)
                 .where(Event.id.in_([delivery.event_id for delivery in deliveries])).tuples())
    tries: dict[int, list[AttemptOut]] = {}
    for row in (WebhookAttempt.select().where(WebhookAttempt.delivery.in_(ids))
                .order_by(WebhookAttempt.id)):
        tries.setdefault(row.delivery_id, []).append(AttemptOut(
            at=row.started_at, status=row.status_code, duration_ms=row.duration_ms,
            response=row.response_excerpt, error=row.error))
    return [DeliveryOut(id=d.id, webhook_id=d.endpoint_id, event_id=d.event_id,
                        event_type=types.get(d.event_id, ""), created_at=d.created_at,
                        next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at,
                        gave_up_at=d.gave_up_at, last_status=d.last_status,
                        attempts=tries.get(d.id, [])) for d in deliveries]


def recent_deliveries(endpoint_id: int, limit: int = RECENT_DELIVERIES) -> list[WebhookDelivery]:
    return list(WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint_id)
                .order_by(WebhookDelivery.id.desc()).limit(limit))


def _owned(landlord: Landlord, webhook_id: int) -> WebhookEndpoint:
    endpoint = endpoints.owned(landlord.id, webhook_id)
    if endpoint is None:
        raise not_found("webhook")
    return endpoint


@route("/webhooks", "POST", summary="Add a webhook endpoint; its signing secret is in this "
       "answer only", body=WebhookCreate, response=WebhookCreated, status=201, errors=(409, 422))
def add_webhook(landlord: Landlord, body: WebhookCreate):
    try:
        endpoint = endpoints.add(landlord, body.url, body.events,
                                 current_app.extensions["fixline"], body.description or None)
    except addresses.Refused as exc:
        raise ApiError(422, str(exc), fields={"url": str(exc)}) from None
    except endpoints.TooMany as exc:
        raise ApiError(409, str(exc)) from None
    return webhook_out(endpoint, WebhookCreated, secret=endpoint.secret), 201


@route("/webhooks", "GET", summary="The landlord's webhook endpoints, oldest first",
       response=WebhookOut, many=True)
def list_webhooks(landlord: Landlord):
    return [webhook_out(endpoint) for endpoint in endpoints.active(landlord.id)]


@route("/webhooks/<int:webhook_id>", "GET", summary="One webhook endpoint",
       response=WebhookOut, errors=(404,))
def get_webhook(landlord: Landlord, webhook_id: int):
    return webhook_out(_owned(landlord, webhook_id))


@route("/webhooks/<int:webhook_id>", "DELETE",
       summary="Remove a webhook endpoint and its deliveries; 204", status=204, errors=(404,))
def delete_webhook(landlord: Landlord, webhook_id: int):
    endpoints.remove(_owned(landlord, webhook_id))
    return Response(status=204)


@route("/webhooks/<int:webhook_id>/deliveries", "GET",
       summary=f"The endpoint's newest {RECENT_DELIVERIES} deliveries with their attempts",
       response=DeliveryOut, many=True, errors=(404,))
def list_deliveries(landlord: Landlord, webhook_id: int):
    return deliveries_out(recent_deliveries(_owned(landlord, webhook_id).id))


@route("/webhook-deliveries/<int:delivery_id>/redeliver", "POST",
       summary="Send a delivery again now (retried for another 24 hours); 409 when its "
       "endpoint is disabled", response=DeliveryOut, status=202, errors=(404, 409))
def redeliver(landlord: Landlord, delivery_id: int):
    delivery = (WebhookDelivery.select(WebhookDelivery).join(WebhookEndpoint)
                .where(WebhookDelivery.id == delivery_id,
                       WebhookEndpoint.landlord == landlord.id).first())
    if delivery is None:
        raise not_found("delivery")
    if WebhookEndpoint.get_by_id(delivery.endpoint_id).disabled_at is not None:
        raise ApiError(409, "this webhook is disabled: add it again to send to it")
    queueing.redeliver(delivery)
    return deliveries_out([WebhookDelivery.get_by_id(delivery.id)])[0], 202
