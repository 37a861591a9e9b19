"""What the landlord pages share: login on every route, Vary, 404 for others' rows, local times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, get_template_attribute, make_response, render_template, request
from flask.typing import ResponseReturnValue
from peewee import ModelSelect

from app.web.auth import login_required


def landlord_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose every route needs a logged-in landlord and varies on HX-Request."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(login_required(lambda: None))
    bp.after_request(_vary)
    bp.add_app_template_filter(local_time, "local_time")
    bp.add_app_template_filter(utc_iso, "utc_iso")
    return bp


def _vary(response):
    response.vary.add("HX-Request")
    return response


def owned_or_404(query: ModelSelect):
    """The one row a landlord-scoped query finds; another landlord's row is simply not found."""
    row = query.first()
    if row is None:
        abort(404)
    return row


def targets(element_id: str) -> bool:
    """Whether this is an htmx request aimed at one element (not a boosted page load)."""
    headers = request.headers
    return bool(headers.get("HX-Request")) and headers.get("HX-Target") == element_id


def page_or_fragment(whole: str, partial: str, element_id: str, status: int = 200, /,
                     **context) -> ResponseReturnValue:
    """The whole page, or only the partial when the request targets its element."""
    template = partial if targets(element_id) else whole
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Target")
    return response


def render_field(field, validate: str) -> str:
    """One form field alone (templates/_field.html), the answer to inline validation."""
    return get_template_attribute("_field.html", "field")(field, validate)


def local_time(moment: datetime | None, timezone: str | None = None) -> str:
    """A stored (naive UTC) time as read in a time zone: 'May 3, 2024 14:05 CDT'."""
    if moment is None:
        return "—"
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone or "UTC"))
    return f"{local:%b} {local.day}, {local:%Y %H:%M %Z}"


def utc_iso(moment: datetime | None) -> str:
    """The machine-readable form for <time datetime>."""
    return "" if moment is None else moment.replace(tzinfo=UTC).isoformat(timespec="seconds")
