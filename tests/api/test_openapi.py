"""/api/openapi.json: exactly the routes the app serves, every $ref resolvable."""

import re

from app.api import ROUTES

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
