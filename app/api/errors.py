"""API errors shaped {"error": {"code", "message", "fields"?}} (CONTRACT.md §5)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from peewee import InterfaceError, OperationalError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from app.booking.transitions import IllegalTransition

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
# Seconds a client is asked to wait while the database cannot be reached.
DATABASE_RETRY_AFTER = 5


class ApiError(Exception):
    """An error a client caused, answered with its status and a readable message."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or CODES.get(status, "error")
        self.fields, self.headers = fields, headers or {}


def refusal(exc: Exception) -> ApiError:
    """§14's refusals to send: an opted-out number (409) or the hourly SMS cap (429)."""
    from app.messaging.optouts import OptedOut

    if isinstance(exc, OptedOut):
        return ApiError(409, str(exc), code="opted_out")
    return ApiError(429, str(exc), code="sms_limit",
                    headers={"Retry-After": str(exc.retry_after)})


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, f"{what} not found")


def body(status: int, message: str, code: str | None = None, fields: dict | None = None):
    error = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        error["fields"] = fields
    return jsonify(error=error), status


# What each kind of pydantic error says to a person, by its type (pydantic's documented way to
# word its errors: the error's ctx fills the blanks). A type not here keeps pydantic's words.
REASONS = {
    "missing": "required",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "must be a whole number"),
    **dict.fromkeys(("float_type", "float_parsing", "decimal_type", "decimal_parsing"),
                    "must be a number"),
    **dict.fromkeys(("bool_type", "bool_parsing"), "must be true or false"),
    "string_type": "must be text",
    "list_type": "must be a list",
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), "must be an object"),
    "literal_error": "must be {expected}",
    "enum": "must be {expected}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    **dict.fromkeys(("datetime_type", "datetime_parsing", "datetime_from_date_parsing"),
                    "must be a date and time like 2026-05-01T14:00:00Z"),
    **dict.fromkeys(("date_type", "date_parsing", "date_from_datetime_parsing"),
                    "must be a date like 2026-05-01"),
    "extra_forbidden": "is not a field of this request",
}


def reason(err: dict) -> str:
    """A person's words for one pydantic error ("must be at least 1", "required")."""
    if err["type"] == "value_error":  # our own validators' messages, without "Value error, "
        return str(err.get("ctx", {}).get("error") or err["msg"])
    if err.get("ctx", {}).get("min_length") == 1:  # an empty string or list
        return "must not be blank" if err["type"] == "string_too_short" else "must not be empty"
    template = REASONS.get(err["type"])
    try:
        return template.format(**err.get("ctx", {})) if template else err["msg"]
    except (KeyError, IndexError):  # a ctx without the blank's value: pydantic's words
        return err["msg"]


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Map each bad field (by its JSON name, dotted for nesting) to a readable reason."""
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "body"
        fields.setdefault(loc, reason(err))
    return fields


# A browser's error page (the tenant's and vendor's pages have their own 404s): in Fixline's
# layout, readable on a phone, with a way back.
PAGES = {
    404: ("Page not found", "There is no page at this address, or it is not yours to see."),
    405: ("Not allowed here", "This page does not take that kind of request."),
    413: ("Too large", "What was sent is larger than this page accepts."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api") or request.path.startswith("/webhooks")


def init_app(app: Flask) -> None:
    """JSON answers for every error under /api, never a traceback."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        response, status = body(exc.status, exc.message, exc.code, exc.fields)
        response.headers.update(exc.headers)
        return response, status

    @app.errorhandler(IllegalTransition)
    def illegal(exc: IllegalTransition):
        return body(409, str(exc), "illegal_state_change")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            messages = {
                404: "no such route",
                405: f"method {request.method} not allowed here",
                413: "request body too large",
            }
            response, status = body(exc.code or 500,
                                    messages.get(exc.code, exc.description or ""))
        elif exc.code in PAGES:
            title, message = PAGES[exc.code]
            response = current_app.make_response(
                render_template("error.html", title=title, message=message))
            status = exc.code
        else:
            return exc
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response, status

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(exc: Exception):
        """The database cannot be reached (down, restarting, a cut connection): 503, try again
        shortly; each request connects afresh, so the service recovers once it answers."""
        from app.observability import logged_path

        first_line = (str(exc).strip().splitlines() or [""])[0]
        log.warning("database unavailable on %s %s: %s: %s", request.method, logged_path(),
                    type(exc).__name__, first_line)
        retry = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        if _wants_json():
            response, status = body(503, "the database cannot be reached just now; try again "
                                         "shortly")
            response.headers.update(retry)
            return response, status
        return ("Service Unavailable: the database cannot be reached just now; try again "
                "shortly.", 503, {"Content-Type": "text/plain; charset=utf-8", **retry})

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        from app.observability import logged_path  # tokens in paths never reach the log

        log.exception("unhandled error on %s %s", request.method, logged_path())
        if _wants_json():
            return body(500, "internal error; the request id in X-Request-Id identifies it")
        return "Internal Server Error", 500
