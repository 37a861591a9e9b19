"""Vendors: create with phones and parsed hours, partial PUT, retire without breaking history."""

import pytest

from app.booking.hours import parse_hours
from app.db import db
from app.models import Appointment, Ping, Vendor, VendorPhone
from tests.api.conftest import error_of, make_ticket, make_vendor, snapshot

PLUMBER = {"name": "Acme Plumbing", "phones": ["+1 (234) 567-893", "+15550004444"],
           "specialties": ["plumbing", "general"], "hours": "Mon-Fri 8AM-5PM", "priority": 2,
           "notes": "ask for Sam"}


def test_create_answers_201_with_the_vendor(client, auth):
    response = client.post("/api/vendors", json=PLUMBER, headers=auth)
    assert response.status_code == 201
    vendor = response.json
    assert vendor["phones"] == ["+1234567893", "+15550004444"]  # normalised, order kept
    assert vendor["specialties"] == ["plumbing", "general"] and vendor["priority"] == 2
    assert vendor["hours"] == "Mon-Fri 8AM-5PM" and vendor["active"] is True
    assert vendor["optedOut"] is False and vendor["preferredChannel"] == "sms"
    assert vendor["lastOfferedAt"] is None and vendor["createdAt"].endswith("Z")
    stored = Vendor.get_by_id(vendor["id"])
    assert stored.schedule == parse_hours("Mon-Fri 8AM-5PM")
    assert [p.position for p in stored.phone_numbers.order_by(VendorPhone.position)] == [0, 1]


def test_defaults_and_repeated_phone(client, auth):
    response = client.post("/api/vendors", json={
        "name": "Handy", "phones": ["+15550001111", "+1 555 000 1111"], "specialties": ["lock"],
    }, headers=auth)
    assert response.status_code == 201
    assert response.json["phones"] == ["+15550001111"]
    assert response.json["hours"] == "24/7" and response.json["priority"] == 1
    assert Vendor.get_by_id(response.json["id"]).schedule == parse_hours("24/7")


@pytest.mark.parametrize("changes,fields", [
    ({"name": ""}, {"name"}),
    ({"phones": []}, {"phones"}),
    ({"phones": ["call me"]}, {"phones.0"}),
    ({"phones": ["+15550000001"] * 6}, {"phones"}),
    ({"specialties": []}, {"specialties"}),
    ({"specialties": ["roofing"]}, {"specialties.0"}),
    ({"hours": "sometimes maybe"}, {"hours"}),
    ({"priority": 0}, {"priority"}),
    ({"priority": "high"}, {"priority"}),
    ({"preferredChannel": "fax"}, {"preferredChannel"}),
    ({"active": "perhaps"}, {"active"}),
])
def test_invalid_vendor_is_422_naming_fields(client, auth, changes, fields):
    response = client.post("/api/vendors", json={**PLUMBER, **changes}, headers=auth)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == fields
    assert Vendor.select().count() == 0


def test_hours_error_is_readable(client, auth):
    response = client.post("/api/vendors", json={**PLUMBER, "hours": "sometimes maybe"},
                           headers=auth)
    assert "sometimes" in error_of(response)["fields"]["hours"]


def test_list_by_priority_then_name_only_mine(client, auth, landlord, other_landlord):
    make_vendor(landlord, "Zed", priority=1)
    make_vendor(landlord, "Bea", priority=3)
    make_vendor(landlord, "Abe", priority=1)
    make_vendor(other_landlord, "Not Mine", priority=1)
    names = [v["name"] for v in client.get("/api/vendors", headers=auth).json]
    assert names == ["Abe", "Zed", "Bea"]


def test_list_reads_every_vendors_phones_in_one_statement(client, auth, landlord, monkeypatch):
    """Each vendor's numbers, first one first, without a read a vendor: the same statements
    for two vendors as for twenty."""
    seen = []
    real = db.obj.execute_sql

    def counted(sql, *args, **kwargs):
        seen.append(sql)
        return real(sql, *args, **kwargs)

    def listing(vendors: int) -> tuple[int, list]:
        for n in range(Vendor.select().count(), vendors):
            make_vendor(landlord, f"Vendor {n:02d}", phones=[f"+1555000{n:04d}",
                                                             f"+1555100{n:04d}"])
        client.get("/api/vendors", headers=auth)  # the key's once-a-minute mark is not counted
        seen.clear()
        monkeypatch.setattr(db.obj, "execute_sql", counted)
        listed = client.get("/api/vendors", headers=auth).json
        monkeypatch.setattr(db.obj, "execute_sql", real)
        return len(seen), listed

    few, listed = listing(2)
    assert [v["phones"] for v in listed] == [["+15550000000", "+15551000000"],
                                             ["+15550000001", "+15551000001"]]
    many, listed = listing(20)
    assert len(listed) == 20 and many == few
    assert listed[19]["phones"] == ["+15550000019", "+15551000019"]


def test_get_one_and_unknown(client, auth, vendor):
    assert client.get(f"/api/vendors/{vendor.id}", headers=auth).json["name"] == "Acme Plumbing"
    missing = client.get("/api/vendors/999", headers=auth)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_put_changes_only_the_fields_sent(client, auth, vendor):
    before = client.get(f"/api/vendors/{vendor.id}", headers=auth).json
    response = client.put(f"/api/vendors/{vendor.id}", json={"priority": 5}, headers=auth)
    assert response.status_code == 200
    assert response.json == {**before, "priority": 5}
    assert Vendor.get_by_id(vendor.id).updated_at >= Vendor.get_by_id(vendor.id).created_at


def test_put_replaces_phones_and_reparses_hours(client, auth, vendor):
    response = client.put(f"/api/vendors/{vendor.id}", json={
        "phones": ["+15550007777", "+15550003000"], "hours": "9AM-6PM", "notes": None,
    }, headers=auth)
    assert response.status_code == 200
    assert response.json["phones"] == ["+15550007777", "+15550003000"]
    assert response.json["notes"] is None
    assert Vendor.get_by_id(vendor.id).schedule == parse_hours("9AM-6PM")
    assert VendorPhone.select().where(VendorPhone.vendor == vendor).count() == 2


def test_put_empty_object_changes_nothing(client, auth, vendor):
    before = client.get(f"/api/vendors/{vendor.id}", headers=auth).json
    response = client.put(f"/api/vendors/{vendor.id}", json={}, headers=auth)
    assert response.status_code == 200 and response.json == before


@pytest.mark.parametrize("body,field", [
    ({"name": None}, "name"), ({"phones": None}, "phones"), ({"priority": None}, "priority"),
    ({"active": None}, "active"), ({"hours": None}, "hours"),
    ({"preferredChannel": None}, "preferredChannel"), ({"phones": []}, "phones"),
    ({"hours": "8 to whenever"}, "hours"), ({"specialties": ["roofing"]}, "specialties.0"),
])
def test_put_refuses_null_and_invalid_fields(client, auth, vendor, body, field):
    before = snapshot()
    response = client.put(f"/api/vendors/{vendor.id}", json=body, headers=auth)
    assert response.status_code == 422 and field in error_of(response)["fields"]
    assert snapshot() == before


def test_put_unknown_is_404(client, auth):
    assert client.put("/api/vendors/999", json={"priority": 2}, headers=auth).status_code == 404


def test_delete_without_history_removes_it(client, auth, vendor):
    response = client.delete(f"/api/vendors/{vendor.id}", headers=auth)
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"/api/vendors/{vendor.id}", headers=auth).status_code == 404
    assert VendorPhone.select().count() == 0
    assert client.delete(f"/api/vendors/{vendor.id}", headers=auth).status_code == 404


@pytest.mark.parametrize("history", ["ping", "appointment"])
def test_delete_with_history_keeps_it_inactive(client, auth, landlord, vendor, history):
    ticket = make_ticket(landlord, "scheduled")
    if history == "ping":
        Ping.create(ticket=ticket, vendor=vendor, channel="sms", code="ACDE",
                    to_number="+15550003000", expires_at=ticket.created_at)
    else:
        Appointment.create(ticket=ticket, vendor=vendor, confirmation_method="manual")
    response = client.delete(f"/api/vendors/{vendor.id}", headers=auth)
    assert response.status_code == 204
    kept = client.get(f"/api/vendors/{vendor.id}", headers=auth)
    assert kept.status_code == 200 and kept.json["active"] is False
    assert kept.json["phones"] == ["+15550003000"]
    shown = client.get(f"/api/tickets/{ticket.id}", headers=auth).json
    assert (shown["pings"] or shown["appointments"])[0]["vendorId"] == vendor.id
    assert client.delete(f"/api/vendors/{vendor.id}", headers=auth).status_code == 204


def test_a_retired_vendor_can_be_reactivated(client, auth, landlord, vendor):
    Appointment.create(ticket=make_ticket(landlord, "scheduled"), vendor=vendor,
                       confirmation_method="manual")
    client.delete(f"/api/vendors/{vendor.id}", headers=auth)
    response = client.put(f"/api/vendors/{vendor.id}", json={"active": True}, headers=auth)
    assert response.json["active"] is True
