"""Signed outbound webhooks (CONTRACT.md §12) against a real local HTTP receiver."""

from __future__ import annotations

import dataclasses
import json
import socket
from datetime import datetime, timedelta

import pytest

from app import clock, events
from app.booking import sweep
from app.db import transaction
from app.hooks import addresses, delivery, endpoints, queueing
from app.models import Message, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.hooks.receiver import Receiver, verify

T0 = datetime(2026, 3, 2, 15, 0)


@pytest.fixture
def handed(monkeypatch) -> list[int]:
    """Delivery ids the sweep hands to the actor (instead of the broker)."""
    sent: list[int] = []
    monkeypatch.setattr(queueing, "_sender", sent.append)
    return sent


def production(config):
    return dataclasses.replace(config, env="production", demo=False)


def emit(landlord, event_type="ticket.escalated", **data):
    with transaction():
        return events.emit(event_type, landlord=landlord.id, reason="no vendor", **data)


def tick(handed: list[int]) -> list[int]:
    """One sweep part's pass; the ids it handed over."""
    handed.clear()
    sweep.webhook_deliveries()
    return list(handed)


def test_a_signed_event_reaches_the_receiver_and_the_signature_verifies(
        client, auth, landlord, config, handed):
    with Receiver(200) as receiver:
        created = client.post("/api/webhooks", headers=auth,
                              json={"url": receiver.url, "events": ["ticket.escalated"]})
        assert created.status_code == 201
        secret, webhook_id = created.json["secret"], created.json["id"]
        assert "secret" not in client.get(f"/api/webhooks/{webhook_id}", headers=auth).json
        event = emit(landlord)
        emit(landlord, "vendor.pinged")  # not subscribed
        (delivery_id,) = tick(handed)
        assert delivery.deliver(delivery_id, config) == "delivered"
        (headers, body), = receiver.requests
    assert verify(secret, headers["Fixline-Signature"], body)
    assert not verify("whsec_wrong", headers["Fixline-Signature"], body)
    assert not verify(secret, headers["Fixline-Signature"], body + b" ")
    envelope = json.loads(body)
    assert envelope == {"id": event.id, "type": "ticket.escalated",
                        "at": clock.isoformat(event.created_at), "ticketId": None,
                        "data": {"reason": "no vendor"}}
    listed = client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=auth).json
    assert [(d["eventType"], [a["status"] for a in d["attempts"]]) for d in listed] == [
        ("ticket.escalated", [200])]
    assert listed[0]["attempts"][0]["response"] == '{"ok": true}'
    assert tick(handed) == []  # delivered once


def test_a_500_is_retried_with_growing_delays_then_delivered(landlord, config, handed,
                                                            monkeypatch):
    monkeypatch.setattr(delivery, "jitter", lambda: 1.0)  # the top of each jitter range
    clock.set_fake(T0)
    with Receiver(500, 502, 500, 200) as receiver:
        endpoint = endpoints.add(landlord, receiver.url, ["*"], config)
        emit(landlord)
        waits, outcomes = [], []
        for _ in range(4):
            (delivery_id,) = tick(handed)
            outcomes.append(delivery.deliver(delivery_id, config))
            row = WebhookDelivery.get_by_id(delivery_id)
            if row.next_attempt_at is None:
                break
            waits.append((row.next_attempt_at - clock.now()).total_seconds())
            assert tick(handed) == []  # not due before its time
            clock.set_fake(row.next_attempt_at)
    assert outcomes == ["retrying", "retrying", "retrying", "delivered"]
    assert waits == [10, 20, 40]
    attempts = list(WebhookAttempt.select().order_by(WebhookAttempt.id))
    assert [a.status_code for a in attempts] == [500, 502, 500, 200]
    assert [a.started_at for a in attempts] == sorted(a.started_at for a in attempts)
    assert len(attempts[0].response_excerpt) == delivery.EXCERPT_BYTES
    assert len(receiver.requests) == 4
    assert WebhookEndpoint.get_by_id(endpoint.id).failing_since is None


def test_jittered_waits_stay_under_a_doubling_cap():
    caps = [min(3600, 10 * 2 ** (n - 1)) for n in range(1, 12)]
    waits = [delivery.backoff(n) for n in range(1, 12)]
    assert all(1 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))


def test_an_endpoint_failing_for_24_hours_is_disabled_and_the_landlord_told(
        landlord, config, handed, monkeypatch):
    monkeypatch.setattr(delivery, "jitter", lambda: 1.0)
    clock.set_fake(T0)
    with Receiver(503) as receiver:
        endpoint = endpoints.add(landlord, receiver.url, ["*"], config)
        emit(landlord)
        outcome, tries = None, 0
        while outcome != "disabled":
            (delivery_id,) = tick(handed)
            outcome = delivery.deliver(delivery_id, config)
            tries += 1
            assert tries < 60
            row = WebhookDelivery.get_by_id(delivery_id)
            if row.next_attempt_at is not None:
                clock.set_fake(row.next_attempt_at)
    assert clock.now() - T0 == timedelta(hours=24)  # the last try falls on the 24th hour
    assert WebhookEndpoint.get_by_id(endpoint.id).disabled_at == clock.now()
    assert WebhookDelivery.get_by_id(delivery_id).gave_up_at == clock.now()
    (told,) = Message.select().where(Message.to_number == landlord.phone)
    assert "turned off" in told.body and told.channel == "sms"
    emit(landlord)
    assert tick(handed) == []  # a disabled endpoint gets nothing more


def _resolving(monkeypatch, address: str) -> None:
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)


def test_production_refuses_private_addresses_when_created(app, client, auth, config,
                                                           monkeypatch):
    app.extensions["fixline"] = production(config)
    refused = client.post("/api/webhooks", headers=auth, json={"url": "http://127.0.0.1:9/x"})
    assert refused.status_code == 422 and "url" in refused.json["error"]["fields"]
    _resolving(monkeypatch, "10.1.2.3")
    refused = client.post("/api/webhooks", headers=auth,
                          json={"url": "https://hooks.example.test/x"})
    assert refused.status_code == 422 and "10.1.2.3" in refused.json["error"]["message"]
    assert client.post("/api/webhooks", headers=auth,
                       json={"url": "ftp://hooks.example.test/x"}).status_code == 422
    _resolving(monkeypatch, "93.184.216.34")
    assert client.post("/api/webhooks", headers=auth,
                       json={"url": "https://hooks.example.test/x"}).status_code == 201
    for address in ("169.254.169.254", "::1", "fe80::1", "224.0.0.1", "0.0.0.0", "fc00::1",
                    "::ffff:127.0.0.1", "100.64.0.1"):
        _resolving(monkeypatch, address)
        with pytest.raises(addresses.Refused):
            addresses.check("https://hooks.example.test/", production=True)


def test_production_checks_the_address_again_at_delivery(landlord, config, handed,
                                                         monkeypatch):
    prod = production(config)
    with Receiver(200) as receiver:
        _resolving(monkeypatch, "93.184.216.34")
        endpoint = endpoints.add(landlord, "http://hooks.example.test/x", ["*"], prod)
        _resolving(monkeypatch, "10.0.0.7")  # the name now points into the network
        emit(landlord)
        (delivery_id,) = tick(handed)
        assert delivery.deliver(delivery_id, prod) == "retrying"
        assert receiver.requests == []
    (attempt,) = WebhookAttempt.select()
    assert attempt.status_code is None and "10.0.0.7" in attempt.error
    assert endpoint.id == WebhookDelivery.get_by_id(delivery_id).endpoint_id


def test_development_allows_localhost(landlord, config):
    assert endpoints.add(landlord, "http://localhost:8000/hooks", ["*"], config).id


def test_a_receiver_that_never_answers_times_out_and_delays_no_other(
        landlord, config, handed, monkeypatch, broker, worker):
    from actors import tasks

    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.5)
    with Receiver(hang=True) as silent, Receiver(200) as fine:
        slow = endpoints.add(landlord, silent.url, ["*"], config)
        quick = endpoints.add(landlord, fine.url, ["*"], config)
        emit(landlord)
        monkeypatch.setattr(queueing, "_sender", tasks.deliver_webhook.send)
        assert sweep.webhook_deliveries() == 2  # one actor message each
        broker.join("webhooks")
        worker.join()
        assert len(fine.requests) == 1
    by_endpoint = {row.endpoint_id: row for row in WebhookDelivery.select()}
    assert by_endpoint[quick.id].delivered_at is not None
    assert by_endpoint[slow.id].delivered_at is None
    assert by_endpoint[slow.id].next_attempt_at is not None  # retried later
    (timed_out,) = (WebhookAttempt.select()
                    .where(WebhookAttempt.delivery == by_endpoint[slow.id].id))
    assert timed_out.status_code is None and "no answer within 0.5 s" in timed_out.error


def test_redeliver_sends_a_delivered_event_again(client, auth, landlord, config, handed):
    with Receiver(200) as receiver:
        endpoint = endpoints.add(landlord, receiver.url, ["*"], config)
        emit(landlord)
        (delivery_id,) = tick(handed)
        delivery.deliver(delivery_id, config)
        handed.clear()
        answer = client.post(f"/api/webhook-deliveries/{delivery_id}/redeliver", headers=auth)
        assert answer.status_code == 202 and answer.json["deliveredAt"] is None
        assert handed == [delivery_id]  # handed straight to the actor
        assert delivery.deliver(delivery_id, config) == "delivered"
        assert len(receiver.requests) == 2
        first, second = (json.loads(body) for _, body in receiver.requests)
        assert first["id"] == second["id"]  # receivers dedupe by id
    assert client.delete(f"/api/webhooks/{endpoint.id}", headers=auth).status_code == 204
    assert client.get("/api/webhooks", headers=auth).json == []


def test_a_landlord_has_at_most_20_webhooks(client, auth):
    for _ in range(endpoints.MAX_PER_LANDLORD):
        assert client.post("/api/webhooks", headers=auth,
                           json={"url": "http://localhost/x"}).status_code == 201
    refused = client.post("/api/webhooks", headers=auth, json={"url": "http://localhost/x"})
    assert refused.status_code == 409
