"""The app boots, migrates and answers a ticket round trip."""


def test_ticket_round_trip(client, auth, home):
    prop, tenant = home
    response = client.post("/api/tickets", json={
        "tenantId": tenant.id, "propertyId": prop.id, "category": "plumbing",
        "severity": "emergency", "window": "today 2-5pm",
    }, headers=auth)
    assert response.status_code == 201, response.json
    ticket = response.json
    assert ticket["status"] == "new"
    got = client.get(f"/api/tickets/{ticket['id']}", headers=auth)
    assert got.status_code == 200
    assert got.json["property"]["landlord"]["email"] == "lana@example.com"
    timeline = client.get(f"/api/tickets/{ticket['id']}/timeline", headers=auth).json
    assert [e["type"] for e in timeline] == ["intake.completed"]
    assert client.get("/api/openapi.json").status_code == 200
