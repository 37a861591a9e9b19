"""The JSON API under /api: one route decorator that parses, authenticates and documents."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from app.api.auth import authenticate
from app.api.errors import ApiError, validation_fields
from app.bounds import INT64_MAX, INT64_MIN
from app.ratelimit import hit

bp = Blueprint("api", __name__, url_prefix="/api")


API_REQUESTS_PER_MINUTE = 1200


def limit_api(landlord_id: int) -> None:
    """Raise 429 when a landlord's keys exceed the per-minute API budget."""
    limit = current_app.config.get("API_RATE_LIMIT", API_REQUESTS_PER_MINUTE)
    allowed, retry_after = hit(f"api:{landlord_id}", limit)
    if not allowed:
        raise ApiError(429, f"rate limit of {limit} requests a minute exceeded",
                       headers={"Retry-After": str(retry_after)})


@dataclass(frozen=True)
class RouteSpec:
    """What /api/openapi.json says about one route; built from the same decorator."""

    endpoint: str
    rule: str
    method: str
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    many: bool
    errors: tuple[int, ...]
    headers: tuple[str, ...]
    body_required: bool = True


ROUTES: list[RouteSpec] = []


MAX_JSON_DEPTH = 32
_JSON_MARKS = re.compile(r'[\[\]{}"\\]')


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than limit; a scan, no recursion."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, -1
    for mark in _JSON_MARKS.finditer(text):
        at, char = mark.start(), mark.group()
        if at == escaped:
            continue
        if in_string:
            if char == "\\":
                escaped = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _json_int(digits: str) -> int:
    """A JSON integer; one too long for 64 bits reads as just past the range, and fails as such."""
    if len(digits.lstrip("-")) <= len(str(INT64_MAX)):
        return int(digits)
    return INT64_MIN - 1 if digits.startswith("-") else INT64_MAX + 1


def _parse_json(model: type[BaseModel]) -> BaseModel:
    """The body as model: 400 unless a JSON object nested at most 32 deep, 422 if invalid."""
    if not request.data:
        raise ApiError(400, "request body must be a JSON object")
    if not request.is_json:
        raise ApiError(400, "request body must be JSON (Content-Type: application/json)")
    try:
        text = request.data.decode(json.detect_encoding(request.data), "surrogatepass")
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not valid JSON") from None
    if json_too_deep(text):
        raise ApiError(400, f"request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(text, parse_int=_json_int)
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object")
    # strict: JSON's own types, as the document states them ("1" is not an integer); by the
    # documented (camelCase) names only: "ends_at" is an unknown property, ignored as the
    # document allows, not a second name for endsAt.
    try:
        return model.model_validate_json(json.dumps(payload), strict=True, by_alias=True,
                                         by_name=False)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):  # a lone surrogate
            raise ApiError(400, "request body is not valid JSON") from None
        raise ApiError(422, "some fields are invalid", fields=validation_fields(exc)) from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict(), by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ApiError(422, "some query parameters are invalid",
                       fields=validation_fields(exc)) from None


def dump(value):
    """JSON-ready form of a schema, a list of schemas, or plain data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [dump(item) for item in value]
    return value


def route(
    rule: str,
    method: str,
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    many: bool = False,
    errors: tuple[int, ...] = (),
    headers: tuple[str, ...] = (),
    body_required: bool = True,
) -> Callable:
    """Declare an API route: fn(landlord, [body], [query], **path) returns a schema.

    With body_required=False an empty body reads as the body model's defaults.
    """

    def decorator(fn: Callable) -> Callable:
        @wraps(fn)
        def view(**path):
            landlord = authenticate()
            limit_api(landlord.id)
            kwargs = dict(path)
            if body is not None:
                kwargs["body"] = (_parse_json(body) if body_required or request.data
                                  else body())
            if query is not None:
                kwargs["query"] = _parse_query(query)
            result = fn(landlord, **kwargs)
            if isinstance(result, Response):
                return result
            code = status
            if isinstance(result, tuple):
                result, code = result
            return jsonify(dump(result)), code

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        ROUTES.append(RouteSpec(fn.__name__, rule, method, summary, body, query, response,
                                status, many, errors, headers, body_required))
        return fn

    return decorator


def openapi_path(rule: str) -> str:
    """Flask's /tickets/<int:ticket_id> as OpenAPI's /tickets/{ticketId}-style path."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


from app.api import (  # noqa: E402,F401  (route modules register on import)
    appointments,
    messages,
    metrics,
    notify,
    openapi,
    pings,
    properties,
    quotes,
    tenants,
    tickets,
    vendors,
    webhooks,
)
