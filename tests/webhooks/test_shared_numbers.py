"""A phone number that is a vendor of two landlords: answers go to the landlord whose offer
they answer; a text that answers none is shown to each landlord with that number, never to
anyone else; its STOP opts out every vendor record at that number."""

from __future__ import annotations

import pytest

from app.booking.vendors import create_vendor
from app.models import Landlord, Message, Vendor
from tests.conftest import make_landlord
from tests.web.conftest import FreshContextClient, log_in
from tests.webhooks.conftest import new_sid, pending

SHARED = "+15550003001"  # Acme Plumbing's number in tests/webhooks/conftest.py


@pytest.fixture
def second(office, other_landlord) -> Vendor:
    """The other landlord also has a vendor at Acme's number."""
    return create_vendor(other_landlord, {"name": "Acme (Otto's)", "phones": [SHARED],
                                          "specialties": ["plumbing"], "priority": 1,
                                          "hours": "24/7"})


@pytest.fixture
def third(app) -> Landlord:
    return make_landlord("Third Party", "third@example.com", "+15550003333")


def listed(client, auth) -> list[str]:
    return [m["body"] for m in client.get("/api/messages", headers=auth).json]


def test_a_text_that_answers_no_offer_is_shown_to_each_landlord_with_that_number(
        office, second, third, text, client, auth, other_auth):
    from app.api.auth import mint

    third_auth = {"Authorization": f"Bearer {mint(third)}"}
    text(SHARED, "Running late today, call me")
    inbound = Message.get(Message.body == "Running late today, call me")
    assert inbound.landlord_id is None
    assert "Running late today, call me" in listed(client, auth)
    assert "Running late today, call me" in listed(client, other_auth)
    assert "Running late today, call me" not in listed(client, third_auth)
    answer = Message.get(Message.status == "replied")
    assert answer.body in listed(client, other_auth) and answer.body not in listed(
        client, third_auth)


def test_the_message_log_page_shows_it_to_both_and_to_nobody_else(
        office, second, third, text, app):
    from werkzeug.security import generate_password_hash

    text(SHARED, "Which address was that?")
    app.test_client_class = FreshContextClient  # several logged-in clients in one test
    pages = {}
    for landlord in (office.landlord, second.landlord, third):
        Landlord.update(password_hash=generate_password_hash("pw-123456", "pbkdf2:sha256:1000")
                        ).where(Landlord.id == landlord.id).execute()
        client = app.test_client()
        assert log_in(client, landlord.email, "pw-123456").status_code == 303
        pages[landlord.id] = client.get("/messages/").get_data(as_text=True)
    assert "Which address was that?" in pages[office.landlord.id]
    assert "Which address was that?" in pages[second.landlord.id]
    assert "Which address was that?" not in pages[third.id]


def test_an_answer_to_an_offer_goes_to_that_offers_landlord_only(
        office, second, ticket, text, client, auth, other_auth):
    code = pending(ticket).code
    text(SHARED, f"YES {code}", sid=new_sid())
    inbound = Message.get(Message.body == f"YES {code}")
    assert inbound.landlord_id == office.landlord.id
    assert f"YES {code}" in listed(client, auth)
    assert f"YES {code}" not in listed(client, other_auth)


def test_stop_from_a_shared_number_opts_out_every_vendor_record(office, second, text):
    text(SHARED, "STOP")
    assert Vendor.get_by_id(office.vendors["Acme Plumbing"].id).opted_out
    assert Vendor.get_by_id(second.id).opted_out
