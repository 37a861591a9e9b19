"""A first end-to-end pass through the loop: intake, ping, signed YES, booking, notices."""

from twilio.request_validator import RequestValidator

from app.api.auth import mint
from app.models import Appointment, Message, Ping, Ticket
from app.seed import load


def signed_post(client, config, path, form):
    url = "http://localhost" + path
    signature = RequestValidator(config.webhook_auth_token).compute_signature(url, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def report_emergency(client, broker, worker) -> tuple[dict, Ping]:
    """The demo landlord's first tenant reports a leak; returns the ticket and its first offer."""
    landlord = load()
    auth = {"Authorization": f"Bearer {mint(landlord)}"}
    tenant = landlord.properties[0].tenants[0]
    created = client.post("/api/tickets", headers=auth, json={
        "tenantId": tenant.id, "propertyId": tenant.property_id, "category": "plumbing",
        "severity": "emergency", "window": "now"}).json
    broker.join("default")
    worker.join()
    return created, Ping.get(Ping.ticket == created["id"])


def test_first_yes_books(app, client, config, broker, worker):
    created, ping = report_emergency(client, broker, worker)
    assert ping.outcome == "pending"
    response = signed_post(client, config, "/webhooks/twilio/sms", {
        "MessageSid": "SM" + "1" * 32, "From": ping.to_number, "To": "+15550000000",
        "Body": f"yes {ping.code}"})
    assert response.status_code == 200, response.data
    assert b"You have job" in response.data
    broker.join("default")
    worker.join()
    ticket = Ticket.get_by_id(created["id"])
    assert ticket.status == "scheduled" and ticket.booked_at and ticket.first_response_at
    assert Appointment.select().where(Appointment.ticket == ticket).count() == 1
    notices = Message.select().where(Message.ticket == ticket, Message.recipient_type.in_(
        ["tenant", "landlord"]))
    assert {m.recipient_type for m in notices} == {"tenant", "landlord"}
    assert all(m.status == "stored" for m in notices)
    again = signed_post(client, config, "/webhooks/twilio/sms", {
        "MessageSid": "SM" + "1" * 32, "From": ping.to_number, "To": "+15550000000",
        "Body": f"yes {ping.code}"})
    assert again.status_code == 200
    assert Appointment.select().count() == 1
    bad = client.post("/webhooks/twilio/sms", data={"MessageSid": "SMx", "From": "+1"},
                      headers={"X-Twilio-Signature": "nope"})
    assert bad.status_code == 403


def test_prometheus_booking_figures(app, client, config, broker, worker):
    test_first_yes_books(app, client, config, broker, worker)
    text = client.get("/metrics").get_data(as_text=True)
    assert "fixline_bookings_total 1.0" in text
    assert 'fixline_pings_total{outcome="accepted"} 1.0' in text
    assert "fixline_replies_total 1.0" in text  # the redelivered YES is not a second reply
    assert "fixline_time_to_book_seconds_count 1.0" in text
    assert 'fixline_time_to_book_seconds_bucket{le="+Inf"} 1.0' in text
    assert "fixline_escalations_total 0.0" in text
    assert "fixline_queue_depth" in text


def test_a_vendor_who_said_no_can_still_take_an_unbooked_job(app, client, config, broker,
                                                              worker):
    created, first = report_emergency(client, broker, worker)
    form = {"From": first.to_number, "To": "+15550000000"}
    signed_post(client, config, "/webhooks/twilio/sms",
                {**form, "MessageSid": "SM" + "2" * 32, "Body": f"NO {first.code}"})
    assert Ping.get_by_id(first.id).outcome == "declined"
    changed = signed_post(client, config, "/webhooks/twilio/sms",
                          {**form, "MessageSid": "SM" + "3" * 32, "Body": f"YES {first.code}"})
    assert b"You have job" in changed.data
    assert Ticket.get_by_id(created["id"]).status == "scheduled"
    assert Ping.get_by_id(first.id).outcome == "accepted"
    broker.join("default")  # leave nothing in flight for the next test's broker
    worker.join()
