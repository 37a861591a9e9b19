"""Request ids, access logs, Prometheus metrics and the health endpoints."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import time
import uuid

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from app import logs
from app.db import db, release, watch_slow_queries
from app.logs import request_id_var

access_log = logging.getLogger("fixline.access")
bp = Blueprint("ops", __name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "fixline_http_requests_total", "HTTP requests", ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "fixline_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
    registry=REGISTRY,
)

# Paths whose segment after the prefix is a secret link (a tenant's intake, a vendor's job page),
# matched or not, so a mistyped or retired token is not logged either.
TOKEN_PATH = re.compile(r"^/(intake|j)/[^/]+")
REDACTED = "<token>"
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """One log format for every process, each line carrying a request id (app.logs)."""
    logs.configure(fmt, level)


def _before() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
    g.request_id = rid
    g.request_token = request_id_var.set(rid)
    g.started = time.perf_counter()


def logged_path() -> str:
    """The request's path and query for logs, with secret link tokens replaced by <token>.

    The /intake/ and /j/ prefixes are redacted whatever route matched; any other route's
    view argument named like a token is redacted as well.
    """
    path = TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/{REDACTED}", request.path)
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, REDACTED)
    query = request.query_string.decode("latin-1")
    return path + (f"?{query}" if query else "")


def _after(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else "unmatched"
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    LATENCY.labels(request.method, route).observe(elapsed)
    response.headers["X-Request-Id"] = g.get("request_id", "-")
    access_log.info(
        '%s %s %s %.1fms', request.method, logged_path(), response.status_code, elapsed * 1000,
    )
    return response


def _open_db() -> None:
    db.connect(reuse_if_open=True)


def _teardown(exc) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        request_id_var.reset(token)


@bp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Database, Redis and a live worker: 503 naming whatever is down."""
    from app.readiness import check

    problems = check(current_app.extensions["fixline"])
    if problems:
        return jsonify(status="unavailable", down=problems), 503
    return jsonify(status="ready")


def _metrics_allowed() -> bool:
    """METRICS_TOKEN set: its bearer only. Unset: anyone in development, loopback in production.

    A loopback request carrying a proxy's forwarding header came from elsewhere through a
    reverse proxy on this machine, so it is not taken as local.
    """
    token = current_app.extensions["fixline"].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if not current_app.extensions["fixline"].production:
        return True
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return address.is_loopback or bool(getattr(address, "ipv4_mapped", None)
                                           and address.ipv4_mapped.is_loopback)


@bp.get("/metrics")
def metrics():
    """Prometheus text: this process's request figures plus the shared booking figures."""
    from app.prometheus import BookingCollector

    if not _metrics_allowed():
        if current_app.extensions["fixline"].metrics_token:
            return Response("", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
        abort(404)

    bookings = CollectorRegistry(auto_describe=False)
    bookings.register(BookingCollector(current_app.extensions["fixline"].broker_url))
    body = generate_latest(REGISTRY) + generate_latest(bookings)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Install request ids, access logging, slow-query logging, per-request connections and
    ops routes."""
    config = app.extensions["fixline"]
    configure_logging(config.log_format)
    watch_slow_queries(db.obj, config.slow_query_ms)
    app.before_request(_before)
    app.before_request(_open_db)
    app.after_request(_after)
    app.teardown_request(_teardown)

    @app.teardown_request
    def _close_db(exc):
        release()

    app.register_blueprint(bp)
