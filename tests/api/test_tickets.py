"""Tickets over the API: intake, Idempotency-Key (also under a race), listing, cancel/complete."""

import threading

import pytest

from app.models import Event, Ticket
from tests.api.conftest import error_of, make_ticket, snapshot


def report(home, **changes) -> dict:
    prop, tenant = home
    body = {"tenantId": tenant.id, "propertyId": prop.id, "category": "plumbing",
            "severity": "emergency", "window": "today 2-5pm"}
    body.update(changes)
    return body


def test_create_answers_201_with_the_ticket(client, auth, home):
    response = client.post("/api/tickets", json=report(home, notes="under the sink"),
                           headers=auth)
    assert response.status_code == 201
    ticket = response.json
    assert ticket["status"] == "new" and ticket["notes"] == "under the sink"
    assert ticket["createdAt"].endswith("Z") and ticket["bookedAt"] is None
    assert ticket["tenant"]["intakeUrl"] and ticket["appointments"] == []
    assert Event.get(Event.ticket == ticket["id"]).type == "intake.completed"


@pytest.mark.parametrize("changes,fields", [
    ({"category": "roofing"}, {"category"}),
    ({"severity": "whenever"}, {"severity"}),
    ({"window": ""}, {"window"}),
    ({"tenantId": "x", "propertyId": None}, {"tenantId", "propertyId"}),
    ({"tenantId": 99999}, {"tenantId"}),
    ({"propertyId": 99999}, {"propertyId"}),
    ({"window": "9999-12-31 1-2pm"}, {"window"}),  # once made every sweep crash
    ({"window": "0001-01-01 1-2pm"}, {"window"}),
])
def test_invalid_report_is_422_naming_fields(client, auth, home, changes, fields):
    response = client.post("/api/tickets", json=report(home, **changes), headers=auth)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == fields
    assert Ticket.select().count() == 0


def test_same_idempotency_key_returns_the_first_ticket(client, auth, home):
    headers = {**auth, "Idempotency-Key": "order-17"}
    first = client.post("/api/tickets", json=report(home), headers=headers)
    again = client.post("/api/tickets", json=report(home, notes="retry"), headers=headers)
    assert first.status_code == 201 and again.status_code in (200, 201)
    assert again.json["id"] == first.json["id"] and again.json["notes"] is None
    assert Ticket.select().count() == 1
    assert Event.select().where(Event.type == "intake.completed").count() == 1


def test_different_keys_make_different_tickets(client, auth, home):
    a = client.post("/api/tickets", json=report(home), headers={**auth, "Idempotency-Key": "a"})
    b = client.post("/api/tickets", json=report(home), headers={**auth, "Idempotency-Key": "b"})
    assert a.json["id"] != b.json["id"] and Ticket.select().count() == 2


def test_landlords_may_reuse_each_others_keys(client, auth, other_auth, home, other_landlord):
    from app.models import Property, Tenant

    prop = Property.get(Property.landlord == other_landlord)
    theirs = {"tenantId": Tenant.get(Tenant.property == prop).id, "propertyId": prop.id,
              "category": "hvac", "severity": "routine", "window": "tomorrow"}
    mine = client.post("/api/tickets", json=report(home),
                       headers={**auth, "Idempotency-Key": "shared"})
    other = client.post("/api/tickets", json=theirs,
                        headers={**other_auth, "Idempotency-Key": "shared"})
    assert mine.status_code == other.status_code == 201
    assert mine.json["id"] != other.json["id"] and other.json["category"] == "hvac"


def test_idempotency_key_too_long_is_422(client, auth, home):
    response = client.post("/api/tickets", json=report(home),
                           headers={**auth, "Idempotency-Key": "k" * 256})
    assert response.status_code == 422 and "Idempotency-Key" in error_of(response)["fields"]


def test_racing_requests_with_one_key_make_one_ticket(app, auth, home):
    barrier, answers = threading.Barrier(8), []

    def post():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/tickets", json=report(home),
                               headers={**auth, "Idempotency-Key": "race"})
        answers.append((response.status_code, response.json.get("id")))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 8
    assert {status for status, _ in answers} <= {200, 201}
    assert len({ticket_id for _, ticket_id in answers}) == 1
    assert Ticket.select().count() == 1
    assert Event.select().where(Event.type == "intake.completed").count() == 1


def test_list_is_newest_first_filtered_and_paginated(client, auth, landlord, other_landlord):
    made = [make_ticket(landlord, status) for status in ("new", "dispatching", "new")]
    make_ticket(other_landlord, "new")
    page = client.get("/api/tickets?perPage=2", headers=auth).json
    assert page["total"] == 3 and page["perPage"] == 2
    assert [t["id"] for t in page["items"]] == [made[2].id, made[1].id]
    only_new = client.get("/api/tickets?status=new", headers=auth).json
    assert {t["id"] for t in only_new["items"]} == {made[0].id, made[2].id}


@pytest.mark.parametrize("query,field", [
    ("perPage=0", "perPage"), ("perPage=101", "perPage"), ("page=0", "page"),
    ("status=lost", "status"), ("page=one", "page"),
])
def test_bad_list_query_is_422(client, auth, query, field):
    response = client.get(f"/api/tickets?{query}", headers=auth)
    assert response.status_code == 422 and field in error_of(response)["fields"]


def test_unknown_ticket_is_404(client, auth):
    for path in ("/api/tickets/999", "/api/tickets/999/timeline"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_complete_on_a_new_ticket_is_409_and_changes_nothing(client, auth, landlord):
    ticket = make_ticket(landlord, "new")
    before = snapshot()
    response = client.post(f"/api/tickets/{ticket.id}/complete", headers=auth)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "illegal_state_change" and "new to completed" in error["message"]
    assert snapshot() == before


def test_cancel_then_cancel_again(client, auth, landlord):
    ticket = make_ticket(landlord, "dispatching")
    first = client.post(f"/api/tickets/{ticket.id}/cancel", headers=auth)
    assert first.status_code == 200 and first.json["status"] == "cancelled"
    assert first.json["cancelledAt"] is not None
    assert client.post(f"/api/tickets/{ticket.id}/cancel", headers=auth).status_code == 409


def test_complete_a_scheduled_ticket(client, auth, landlord):
    ticket = make_ticket(landlord, "scheduled")
    response = client.post(f"/api/tickets/{ticket.id}/complete", headers=auth)
    assert response.status_code == 200 and response.json["status"] == "completed"
    timeline = client.get(f"/api/tickets/{ticket.id}/timeline", headers=auth).json
    assert [e["summary"] for e in timeline][-2:] == ["Status scheduled → completed",
                                                      "Job marked completed"]
