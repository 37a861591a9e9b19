"""The CLI of CONTRACT.md §3, through Flask's test runner."""

from werkzeug.security import check_password_hash

from app.api.auth import landlord_for
from app.db import db
from app.models import Event, Landlord, Message, Ping, Property, Tenant, Ticket, Vendor, VendorPhone
from app.seed import DEMO_EMAIL, DEMO_PASSWORD


def counts():
    with db.connection_context():
        return {m.__name__: m.select().count()
                for m in (Landlord, Property, Tenant, Vendor, VendorPhone)}


def test_db_upgrade_reports_up_to_date(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_seed_is_idempotent_and_matches_contract(runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    first = counts()
    assert first == {"Landlord": 1, "Property": 3, "Tenant": 3, "Vendor": 5, "VendorPhone": 5}
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert counts() == first
    with db.connection_context():
        john = Landlord.get(Landlord.email == DEMO_EMAIL)
        assert (john.name, john.phone) == ("John Smith", "+1234567890")
        assert check_password_hash(john.password_hash, DEMO_PASSWORD)
        handyman = Vendor.get(Vendor.name == "Emergency Handyman")
        assert handyman.specialties == ["plumbing", "electrical", "hvac", "lock"]
        assert handyman.phones == ["+1234567897"] and handyman.priority == 1
        assert len(handyman.schedule) == 7
        lock = Vendor.get(Vendor.name == "Lock & Key Pro")
        assert (lock.hours, lock.priority) == ("9AM-5PM", 3)
        austin = Tenant.get(Tenant.name == "Austin Perez")
        assert austin.phone == "+13145606377"
        assert austin.property.address == "7304 Lindell Blvd Unit 1B"


def test_landlord_create_and_duplicate(runner):
    ok = runner.invoke(args=["landlord", "create", "--name", "Ann Owner",
                             "--email", "Ann@Example.com", "--phone", "+1 (314) 555-0100"])
    assert ok.exit_code == 0, ok.output
    with db.connection_context():
        ann = Landlord.get(Landlord.email == "ann@example.com")
        assert ann.phone == "+13145550100"
    again = runner.invoke(args=["landlord", "create", "--name", "Ann", "--email",
                                "ann@example.com", "--phone", "+13145550100"])
    assert again.exit_code != 0 and "already exists" in again.output
    bad = runner.invoke(args=["landlord", "create", "--name", "X", "--email", "x@y.z",
                              "--phone", "call me"])
    assert bad.exit_code != 0 and "phone" in bad.output


def test_api_key_create_prints_key_alone_on_last_line(runner):
    runner.invoke(args=["seed"])
    result = runner.invoke(args=["api-key", "create", DEMO_EMAIL])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert " " not in key
    with db.connection_context():
        assert landlord_for(key).email == DEMO_EMAIL
        stored = {row.key_hash for row in Landlord.get(Landlord.email == DEMO_EMAIL).api_keys}
        assert key not in stored and len(stored) == 1
    missing = runner.invoke(args=["api-key", "create", "nobody@example.com"])
    assert missing.exit_code != 0 and "no landlord" in missing.output


def test_api_key_authenticates_api(runner, client):
    runner.invoke(args=["seed"])
    key = runner.invoke(args=["api-key", "create", DEMO_EMAIL]).output.strip().splitlines()[-1]
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_set_password(runner):
    runner.invoke(args=["seed"])
    result = runner.invoke(args=["set-password", DEMO_EMAIL, "--password", "correct horse"])
    assert result.exit_code == 0, result.output
    with db.connection_context():
        assert check_password_hash(Landlord.get(Landlord.email == DEMO_EMAIL).password_hash,
                                   "correct horse")
    short = runner.invoke(args=["set-password", DEMO_EMAIL, "--password", "short"])
    assert short.exit_code != 0


def test_events_replay_after_handling_changes_nothing(runner, client, auth, home, broker,
                                                       worker):
    prop, tenant = home
    client.post("/api/tickets", headers=auth, json={
        "tenantId": tenant.id, "propertyId": prop.id, "category": "lock",
        "severity": "routine", "window": "any time"})
    broker.join("default")
    worker.join()
    with db.connection_context():
        before = {m.__name__: m.select().count() for m in (Event, Message, Ping, Ticket)}
    assert before["Event"] > 1  # dispatch ran: no vendor, so it escalated and told people
    for _ in range(2):
        result = runner.invoke(args=["events", "replay"])
        assert result.exit_code == 0 and "replayed" in result.output
    with db.connection_context():
        assert {m.__name__: m.select().count() for m in (Event, Message, Ping, Ticket)} == before
