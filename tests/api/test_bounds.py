"""Numbers past 64 bits and JSON nested too deep are a 4xx, never a 500 (CONTRACT.md §14)."""

import re

import pytest

from app.api import MAX_JSON_DEPTH, ROUTES, json_too_deep
from app.bounds import INT64_MAX
from tests.api.conftest import error_of, snapshot

HUGE = [str(INT64_MAX + 1), str(2**64), "9" * 30, "9" * 5000]
WITH_IDS = sorted({(spec.method, spec.rule) for spec in ROUTES if "<int:" in spec.rule})


@pytest.mark.parametrize("method,rule", WITH_IDS)
@pytest.mark.parametrize("number", HUGE)
def test_an_id_past_64_bits_in_a_path_is_404(client, auth, method, rule, number):
    path = "/api" + re.sub(r"<int:\w+>", number, rule)
    response = client.open(path, method=method, headers=auth, json={})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


VALID_BODY = {  # a body that passes validation, so the lookup is what answers
    "/appointments/<int:appointment_id>/reschedule": {"startsAt": "2030-01-01T10:00:00Z"},
}


@pytest.mark.parametrize("method,rule", WITH_IDS)
def test_the_largest_64_bit_id_is_looked_up_and_not_found(client, auth, method, rule):
    path = "/api" + re.sub(r"<int:\w+>", str(INT64_MAX), rule)
    response = client.open(path, method=method, headers=auth,
                           json=VALID_BODY.get(rule, {"ticketId": 1}))
    assert response.status_code == 404


BODIES = {  # each route and field that reads an integer from a body; N is the number
    ("POST", "/api/tickets", "tenantId"):
        '{"tenantId": N, "propertyId": 1, "category": "plumbing", "severity": "routine",'
        ' "window": "today"}',
    ("POST", "/api/appointments", "ticketId"):
        '{"ticketId": N, "vendorId": 1, "startsAt": "2030-01-01T10:00:00Z",'
        ' "confirmationMethod": "api"}',
    ("POST", "/api/vendors/1/ping", "ticketId"): '{"ticketId": N}',
    ("POST", "/api/notify", "recipient.id"):
        '{"recipient": {"type": "tenant", "id": N}, "message": "hi"}',
    ("POST", "/api/tenants", "propertyId"):
        '{"name": "T", "phone": "+13145550100", "propertyId": N}',
    ("PUT", "/api/vendors/1", "priority"): '{"priority": N}',
}


@pytest.mark.parametrize("number", HUGE + ["-" + n for n in HUGE])
def test_an_integer_past_64_bits_in_a_body_is_422_naming_the_field(client, auth, vendor,
                                                                  number):
    before = snapshot()
    for (method, path, field), template in BODIES.items():
        response = client.open(path, method=method, data=template.replace("N", number),
                               headers=auth, content_type="application/json")
        assert response.status_code == 422, (path, response.json)
        assert field in error_of(response)["fields"], (path, response.json)
    assert snapshot() == before


@pytest.mark.parametrize("query", [
    "/api/tickets?page=%s", "/api/tickets?perPage=%s", "/api/messages?ticketId=%s",
    "/api/messages?limit=%s",
])
@pytest.mark.parametrize("number", HUGE + ["-" + n for n in HUGE])
def test_an_integer_past_64_bits_in_a_query_is_422(client, auth, query, number):
    response = client.get(query % number, headers=auth)
    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_failed"


def test_a_page_whose_offset_would_overflow_is_422(client, auth):
    response = client.get(f"/api/tickets?page={INT64_MAX // 2}&perPage=100", headers=auth)
    assert response.status_code == 422 and "page" in error_of(response)["fields"]


def test_a_far_page_within_range_is_empty(client, auth, ticket):
    response = client.get(f"/api/tickets?page={INT64_MAX // 100}&perPage=100", headers=auth)
    assert response.status_code == 200
    assert response.json["items"] == [] and response.json["total"] == 1


def _nested(depth: int) -> str:
    """An object whose `name` holds arrays, depth levels of nesting in all."""
    return '{"name": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_json_nested_deeper_than_32_is_400(client, auth, depth):
    before = snapshot()
    response = client.post("/api/vendors", data=_nested(depth), headers=auth,
                           content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request" and "deeper than 32" in error["message"]
    assert snapshot() == before


def test_json_nested_32_deep_is_read_and_validated(client, auth):
    response = client.post("/api/vendors", data=_nested(MAX_JSON_DEPTH), headers=auth,
                           content_type="application/json")
    assert response.status_code == 422 and "name" in error_of(response)["fields"]


@pytest.mark.parametrize("text,deep", [
    ('{"a": "' + "[" * 100 + '"}', False),  # brackets inside a string do not nest
    ('{"a": "\\"' + "[" * 100 + '"}', False),  # nor after an escaped quote
    ('{"a": "\\\\", "b": ' + "[" * 40 + "]" * 40 + "}", True),  # an escaped backslash ends
    ("[" * 33 + "]" * 33, True),
    ("[" * 32 + "]" * 32, False),
    ("[]" * 1000, False),  # many, side by side
])
def test_depth_is_counted_outside_strings(text, deep):
    assert json_too_deep(text) is deep


VENDOR = ('{"name": "NAME", "phones": ["+13145550100"], "specialties": ["plumbing"], '
          '"hours": "24/7"}')


@pytest.mark.parametrize("name,status", [
    ("Acme \\ud800 Plumbing", 400),  # a lone surrogate: no character at all
    ("Acme \\u0000 Plumbing", 422),  # NUL, which PostgreSQL cannot store in text
    ("Acme \\ud83d\\udd27 Plumbing", 201),  # a proper surrogate pair (a wrench) is fine
])
def test_lone_surrogates_and_nul_are_refused(client, auth, name, status):
    before = snapshot()
    response = client.post("/api/vendors", data=VENDOR.replace("NAME", name), headers=auth,
                           content_type="application/json")
    assert response.status_code == status, response.json
    if status != 201:
        assert snapshot() == before
    else:
        assert response.json["name"] == "Acme \U0001f527 Plumbing"


def test_a_start_before_year_one_in_utc_is_422(client, auth, ticket, vendor):
    response = client.post("/api/appointments", headers=auth, json={
        "ticketId": ticket.id, "vendorId": vendor.id, "startsAt": "0001-01-01T00:00:00+05:00",
        "confirmationMethod": "api"})
    assert response.status_code == 422 and "startsAt" in error_of(response)["fields"]


@pytest.mark.parametrize("value,status", [
    ("ID", 202), ("ID.0", 202),  # JSON Schema's integers: 3.0 is one
    ('"ID"', 422), ("true", 422), ("ID.5", 422), ("[ID]", 422),
])
def test_body_integers_must_be_json_integers(client, auth, ticket, vendor, value, status):
    data = '{"ticketId": ' + value.replace("ID", str(ticket.id)) + "}"
    response = client.post(f"/api/vendors/{vendor.id}/ping", headers=auth, data=data,
                           content_type="application/json")
    assert response.status_code == status, response.json
    if status == 422:
        assert "ticketId" in error_of(response)["fields"]
