"""GET /api/openapi.json, generated from the route table and its schemas."""

from __future__ import annotations

import re

from flask import jsonify
from pydantic import BaseModel

from app.api import ROUTES, RouteSpec, bp, openapi_path
from app.api.errors import CODES
from app.bounds import INT64_MAX

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


# Path ids are 64-bit and start at 1; anything else matches no route: a 404 (CONTRACT.md §14).
PATH_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64_MAX}


RETRY_AFTER = {"description": "seconds until a request may succeed", "required": True,
               "schema": {"type": "integer", "minimum": 0}}


# The event types a ticket's timeline holds (CONTRACT.md §6 and §9), each entry's `type`.
TIMELINE_TYPES = {
    "intake": ("intake.completed",),
    "state": ("ticket.status_changed", "ticket.escalated", "ticket.acknowledged",
              "ticket.cancelled", "ticket.completed", "ticket.reopened"),
    "offers": ("vendor.pinged", "vendor.declined", "vendor.timed_out", "vendor.unreachable",
               "vendor.skipped", "vendor.confirmed", "dispatch.restarted",
               "dispatch.waiting", "dispatch.round"),
    "the visit": ("appointment.confirmed", "visit.time_set", "visit.confirmed",
                  "visit.time_refused", "visit.reminded", "visit.check",
                  "appointment.completed", "photos.received", "feedback.received",
                  "appointment.cancelled", "vendor.no_show"),
    "messages": ("notification.sent", "notification.failed"),
    "stuck rows": ("fault.parked", "fault.retried"),
}

# What an operation says beyond its summary, by endpoint.
DESCRIPTIONS = {
    "ticket_timeline": "Each entry's `type` is one of: " + "; ".join(
        f"{group}: " + ", ".join(f"`{kind}`" for kind in kinds)
        for group, kinds in TIMELINE_TYPES.items())
    + ". `data` carries the event's details (ids, vendor, times; `appointment.cancelled` "
      "has `by` and `reason`, `feedback.received` its `rating`).",
}


def _schema(model: type[BaseModel], components: dict, mode: str) -> dict:
    """Register model (and its nested models) in components; return a $ref to it."""
    schema = model.model_json_schema(by_alias=True, mode=mode,
                                     ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameters(spec: RouteSpec) -> list[dict]:
    params = []
    for name in _path_names(spec.rule):
        params.append({"name": name, "in": "path", "required": True, "schema": PATH_ID})
    if spec.query is not None:
        query_schema = spec.query.model_json_schema(by_alias=True)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema["properties"].items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "schema": prop})
    for header in spec.headers:
        params.append({"name": header, "in": "header", "required": False,
                       "schema": {"type": "string", "maxLength": 255}})
    return params


def _path_names(rule: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", rule)


def _links(spec: RouteSpec) -> dict:
    """What a 201 leads to: every route under the created object's path, its id filled in."""
    if spec.status != 201:
        return {}
    links = {}
    for other in ROUTES:
        names = _path_names(other.rule)
        if len(names) == 1 and other.rule.startswith(f"{spec.rule}/<int:{names[0]}>"):
            links[other.endpoint] = {"operationId": other.endpoint,
                                     "parameters": {names[0]: "$response.body#/id"}}
    return links


def document() -> dict:
    """The OpenAPI 3.1 document for every declared route."""
    components: dict = {"Error": ERROR_SCHEMA}
    paths: dict = {}
    for spec in ROUTES:
        operation: dict = {"summary": spec.summary, "operationId": spec.endpoint,
                           "security": [{"bearer": []}], "parameters": _parameters(spec)}
        if spec.endpoint in DESCRIPTIONS:
            operation["description"] = DESCRIPTIONS[spec.endpoint]
        if spec.body is not None:
            operation["requestBody"] = {"required": spec.body_required, "content": {
                "application/json": {"schema": _schema(spec.body, components, "validation")}}}
        answer: dict = {"description": "success"}
        if links := _links(spec):
            answer["links"] = links
        if spec.response is not None:
            ref = _schema(spec.response, components, "serialization")
            answer["content"] = {"application/json": {
                "schema": {"type": "array", "items": ref} if spec.many else ref}}
        responses = {str(spec.status): answer}
        statuses = {401, 429, 500, *spec.errors}
        if spec.body is not None:
            statuses |= {400, 413, 422}
        if spec.query is not None:
            statuses.add(422)
        if _path_names(spec.rule):  # not found, not yours, or not a 64-bit id
            statuses.add(404)
        for status in sorted(statuses):
            responses[str(status)] = {
                "description": CODES.get(status, "error").replace("_", " "),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        responses["429"]["headers"] = {"Retry-After": RETRY_AFTER}
        operation["responses"] = responses
        paths.setdefault("/api" + openapi_path(spec.rule), {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Fixline API", "version": "1",
                 "description": "Maintenance dispatch: tickets, vendors, appointments, messages."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI document (no key needed: it describes, it does not reveal)."""
    return jsonify(document())
