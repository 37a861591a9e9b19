"""API errors shaped {"error": {"code", "message", "fields"?}} (CONTRACT.md §5)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
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


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Map each bad field (by its JSON name, dotted for nesting) to a readable reason."""
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "body"
        fields.setdefault(loc, err["msg"])
    return fields


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
        if not _wants_json():
            return exc
        messages = {
            404: "no such route",
            405: f"method {request.method} not allowed here",
            413: "request body too large",
        }
        response, status = body(exc.code or 500, messages.get(exc.code, exc.description or ""))
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
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
