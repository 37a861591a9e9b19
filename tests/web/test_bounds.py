"""Page ids and ?page=/?ticket= numbers past 64 bits are a 404 or 422 page, never a 500."""

from __future__ import annotations

import re

import pytest

from app.bounds import INT64_MAX
from app.models import Tenant

HUGE = [str(INT64_MAX + 1), "9" * 30, "9" * 5000]


def page_rules(app) -> list[tuple[str, str]]:
    """(method, rule) of every page route with an integer in its path (the API has its own)."""
    return sorted({(method, rule.rule) for rule in app.url_map.iter_rules()
                   if "<int:" in rule.rule and not rule.rule.startswith("/api/")
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_in_page_paths_are_404(app, landlord_client, seeded, csrf_token, number):
    token = Tenant.select().order_by(Tenant.id).first().intake_token
    form = {"csrf_token": csrf_token(landlord_client, "/vendors/new")}  # a POST gets past CSRF
    rules = page_rules(app)
    assert len(rules) >= 10  # tickets, tenants, properties, vendors, intake
    for method, rule in rules:
        path = re.sub(r"<int:\w+>", number, rule.replace("<token>", token))
        path = re.sub(r"<\w+>", "name", path)
        response = landlord_client.open(path, method=method, data=form)
        assert response.status_code == 404, (method, path[:80], response.status_code)


@pytest.mark.parametrize("page", [*HUGE, "²", "٣", "-1", "0", "abc"])
def test_the_message_log_reads_any_page_number(landlord_client, page):
    response = landlord_client.get(f"/messages/?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("ticket", [*HUGE, "²", "-1"])
def test_a_ticket_filter_past_64_bits_is_a_422_page(landlord_client, ticket):
    response = landlord_client.get(f"/messages/?ticket={ticket}")
    assert response.status_code == 422
    assert "A ticket number is a whole number" in response.get_data(as_text=True)


def test_the_largest_64_bit_ticket_filter_is_not_found(landlord_client):
    assert landlord_client.get(f"/messages/?ticket={INT64_MAX}").status_code == 404


@pytest.mark.parametrize("number", HUGE)
def test_huge_numbers_in_forms_are_form_errors(landlord_client, seeded, make_ticket, csrf_token,
                                               number):
    ticket = make_ticket(seeded)
    token = csrf_token(landlord_client, "/vendors/new")
    posts = {
        "/vendors/new": {"name": "V", "phones": "+13145550100", "specialties": "plumbing",
                         "hours": "24/7", "priority": number, "preferred_channel": "sms"},
        "/tenants/new": {"name": "T", "phone": "+13145550100", "property": number},
        f"/tickets/{ticket.id}/assign": {"vendor": number},
    }
    for path, form in posts.items():
        response = landlord_client.post(path, data={**form, "csrf_token": token})
        assert response.status_code == 422, (path, response.status_code)
