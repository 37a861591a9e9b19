"""Settings → Webhooks: add (the secret shown once), list, deliveries, Redeliver, delete."""

from __future__ import annotations

import re

from app.hooks import queueing
from app.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def token(client, path="/settings/webhooks/") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def test_add_shows_the_secret_once_then_lists_it(landlord_client, seeded):
    page = landlord_client.get("/settings/webhooks/")
    assert page.status_code == 200 and "No webhooks yet" in page.get_data(as_text=True)
    added = landlord_client.post("/settings/webhooks/", data={
        "csrf_token": token(landlord_client), "url": "http://localhost:9999/hooks",
        "events": "ticket.escalated, appointment.confirmed", "description": "our CRM"})
    assert added.status_code == 201
    endpoint = WebhookEndpoint.get(WebhookEndpoint.landlord == seeded)
    assert endpoint.secret in added.get_data(as_text=True)
    assert endpoint.events == ["appointment.confirmed", "ticket.escalated"]
    again = landlord_client.get("/settings/webhooks/").get_data(as_text=True)
    assert "http://localhost:9999/hooks" in again and endpoint.secret not in again


def test_a_bad_url_stays_on_the_form(landlord_client, seeded):
    refused = landlord_client.post("/settings/webhooks/", data={
        "csrf_token": token(landlord_client), "url": "ftp://example.com/x", "events": "*"})
    assert refused.status_code == 422 and "http://" in refused.get_data(as_text=True)
    assert not WebhookEndpoint.select().exists()


def test_deliveries_show_their_attempts_and_redeliver(landlord_client, seeded, monkeypatch):
    handed: list[int] = []
    monkeypatch.setattr(queueing, "_sender", handed.append)
    endpoint = WebhookEndpoint.create(landlord=seeded, url="http://localhost:9/x", secret="s")
    event = Event.create(landlord=seeded, type="ticket.escalated", actor="system")
    delivery = WebhookDelivery.create(endpoint=endpoint, event=event,
                                      retry_until=event.created_at, gave_up_at=event.created_at)
    WebhookAttempt.create(delivery=delivery, started_at=event.created_at, status_code=503,
                          duration_ms=41, response_excerpt="down for maintenance",
                          error="HTTP 503")
    path = f"/settings/webhooks/{endpoint.id}"
    html = landlord_client.get(path).get_data(as_text=True)
    assert "ticket.escalated" in html and "503" in html and "down for maintenance" in html
    assert "Gave up" in html and "Redeliver" in html
    sent = landlord_client.post(f"/settings/webhooks/deliveries/{delivery.id}/redeliver",
                                data={"csrf_token": token(landlord_client, path)})
    assert sent.status_code == 303 and handed == [delivery.id]
    assert WebhookDelivery.get_by_id(delivery.id).gave_up_at is None
    gone = landlord_client.post(f"/settings/webhooks/{endpoint.id}/delete",
                                data={"csrf_token": token(landlord_client, path)})
    assert gone.status_code == 303 and not WebhookEndpoint.select().exists()


def test_another_landlords_webhook_is_not_found(landlord_client, app):
    from tests.conftest import make_landlord

    other = make_landlord("Otto Other", "otto@example.com", "+15550002000")
    endpoint = WebhookEndpoint.create(landlord=other, url="http://localhost:9/x", secret="s")
    assert landlord_client.get(f"/settings/webhooks/{endpoint.id}").status_code == 404
