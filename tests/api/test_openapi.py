"""/api/openapi.json: exactly the routes the app serves, every $ref resolvable."""

import re
from zoneinfo import available_timezones

import pytest

from app.api import ROUTES
from app.bounds import INT64_MAX

VERBS = {"get", "post", "put", "patch", "delete"}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def served(app) -> set[tuple[str, str]]:
    """(METHOD, /api/path/{name}) for every rule of the app under /api but the document."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == "/api/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_document_lists_exactly_the_served_routes(app, client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    documented = {(verb.upper(), path) for path, ops in doc["paths"].items()
                  for verb in ops if verb in VERBS}
    assert documented == served(app)
    assert len(documented) == len(ROUTES)


def test_every_ref_resolves(client):
    doc = client.get("/api/openapi.json").json
    refs = set(_refs(doc["paths"])) | set(_refs(doc["components"]))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"], ref


def test_every_operation_declares_its_answers(client):
    doc = client.get("/api/openapi.json").json
    for path, ops in doc["paths"].items():
        for verb, op in ops.items():
            assert op["summary"] and op["operationId"], (verb, path)
            assert {"401", "429", "500"} <= set(op["responses"]), (verb, path)
            names = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"\{(\w+)\}", path)), (verb, path)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= set(op["responses"])
            success = [code for code in op["responses"] if code.startswith("2")]
            assert len(success) == 1, (verb, path)
            if success[0] != "204":
                assert "content" in op["responses"][success[0]], (verb, path)


def test_the_document_needs_no_key(client):
    assert client.get("/api/openapi.json").status_code == 200


def _schemas(client) -> dict:
    return client.get("/api/openapi.json").json["components"]["schemas"]


def _properties(node):
    """Every (name, schema) under a `properties` anywhere in node."""
    if isinstance(node, dict):
        yield from node.get("properties", {}).items()
        for value in node.values():
            yield from _properties(value)
    elif isinstance(node, list):
        for item in node:
            yield from _properties(item)


def test_every_id_and_integer_is_bounded_to_64_bits(client):
    doc = client.get("/api/openapi.json").json
    for path, ops in doc["paths"].items():
        for op in ops.values():
            for param in op["parameters"]:
                if param["in"] == "path":
                    assert param["schema"] == {"type": "integer", "format": "int64",
                                               "minimum": 1, "maximum": INT64_MAX}, path
                    assert "404" in op["responses"], path
    requests = [name for name, schema in doc["components"]["schemas"].items()
                if name.endswith(("Create", "Update", "Query")) or name == "Recipient"]
    integers = [(name, schema) for model in requests
                for name, schema in _properties(doc["components"]["schemas"][model])
                if schema.get("type") == "integer"]
    assert len(integers) >= 7
    for name, schema in integers:
        assert schema.get("maximum", INT64_MAX + 1) <= INT64_MAX, name


# (as written, passes the document's pattern, accepted by the API). The pattern is a first check
# only: whatever it refuses the API refuses, and a number it lets through is then parsed with
# libphonenumber, as the field's description says.
PHONES = [
    ("+13145550100", True, True), ("(314) 555-0100", True, True), ("314.555.0100", True, True),
    (" +44 20 7946 0958 ", True, True), ("+1234567", True, False),
    ("+123456789012345", True, False), ("555-1234", True, False), ("020 7946 0018", True, False),
    ("+0123456789", False, False), ("+123456", False, False), ("+1234567890123456", False, False),
    ("phone 3145550100", False, False), ("+1 314 555 0100 x2", False, False),
    ("٣١٤٥٥٥٠١٠٠", False, False), ("1\u001c3145550100", True, True),
    ("1\ufeff3145550100", False, False), ("+1" + " " * 31 + "3145550", False, False),
]


@pytest.mark.parametrize("text,documented,valid", PHONES)
def test_the_phone_pattern_is_a_first_check_of_the_rule_the_api_applies(
        client, auth, home, text, documented, valid):
    phone = _schemas(client)["TenantCreate"]["properties"]["phone"]
    assert phone["description"] and "+13145550100" in phone["examples"]
    assert "libphonenumber" in phone["description"] and "DEFAULT_PHONE_REGION" in phone[
        "description"]
    matches = re.search(phone["pattern"], text) is not None and len(text) <= phone["maxLength"]
    assert matches is documented
    response = client.post("/api/tenants", headers=auth, json={
        "name": "T", "phone": text, "propertyId": home[0].id})
    assert response.status_code == (201 if valid else 422), response.json


def test_the_time_zones_are_the_list_the_api_accepts(client, auth):
    timezone = _schemas(client)["PropertyCreate"]["properties"]["timezone"]
    assert timezone["enum"] == sorted(available_timezones())
    assert "America/Chicago" in timezone["enum"] and "IANA" in timezone["description"]
    for name, status in [("Europe/Berlin", 201), ("posixrules", 422), ("America/chicago", 422),
                         ("right/UTC", 422), ("", 422)]:
        response = client.post("/api/properties", headers=auth,
                               json={"address": f"1 {name or 'No'} Street", "timezone": name})
        assert response.status_code == status, (name, response.json)


def test_a_created_object_links_to_its_routes(client):
    doc = client.get("/api/openapi.json").json
    links = doc["paths"]["/api/tickets"]["post"]["responses"]["201"]["links"]
    assert set(links) == {"get_ticket", "ticket_timeline", "cancel_ticket", "complete_ticket"}
    assert links["get_ticket"]["parameters"] == {"ticket_id": "$response.body#/id"}
    assert "links" in doc["paths"]["/api/vendors"]["post"]["responses"]["201"]


def test_429_states_retry_after_and_notify_its_409(client):
    doc = client.get("/api/openapi.json").json
    for ops in doc["paths"].values():
        for op in ops.values():
            assert "Retry-After" in op["responses"]["429"]["headers"]
    assert "409" in doc["paths"]["/api/notify"]["post"]["responses"]
    assert "409" in doc["paths"]["/api/vendors/{vendor_id}/ping"]["post"]["responses"]
