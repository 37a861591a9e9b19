"""Demo only: the logged-in landlord's vendor phones, answering offers with signed webhooks."""

from __future__ import annotations

import secrets

import requests
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from twilio.request_validator import RequestValidator

from app.booking.answers import vendors_with
from app.config import Config
from app.models import Landlord, Message, Ping, Vendor, VendorPhone
from app.web.auth import login_required

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
SIMULATED_FROM = "+15005550006"  # Twilio's magic test number, standing in for Fixline's


def inbox(vendor: Vendor, limit: int = 20) -> list[Message]:
    """The vendor's landlord's messages to and from the vendor's phones, newest first."""
    numbers = [p.number for p in vendor.phone_numbers]
    return list(Message.select()
                .where(Message.landlord == vendor.landlord_id,
                       (Message.to_number.in_(numbers) & (Message.direction == "outbound"))
                       | (Message.from_number.in_(numbers) & (Message.direction == "inbound")))
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(limit))


def open_offers(vendor: Vendor) -> list[Ping]:
    return list(Ping.select().where(Ping.vendor == vendor, Ping.outcome == "pending")
                .order_by(Ping.sent_at.desc()))


def post_signed_sms(config: Config, from_number: str, body: str) -> requests.Response:
    """POST an inbound SMS to Fixline's own webhook, signed exactly as Twilio signs it.

    The address comes from the configuration (PUBLIC_BASE_URL, else HOST and PORT), never
    from the request: a forged Host header must not send a signed webhook anywhere else.
    """
    url = config.link_base + url_for("webhooks.sms")
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
            "From": from_number, "To": config.twilio_from_number or SIMULATED_FROM,
            "Body": body, "NumMedia": "0"}
    signature = RequestValidator(config.webhook_auth_token).compute_signature(url, form)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature},
                         timeout=10, allow_redirects=False)


def _vendors(landlord: Landlord) -> list[Vendor]:
    return list(Vendor.select()
                .where(Vendor.landlord == landlord,
                       Vendor.id.in_(VendorPhone.select(VendorPhone.vendor)))
                .order_by(Vendor.name))


def _shared(number: str, landlord: Landlord) -> bool:
    """Whether another landlord's vendor also answers at number (a reply could reach theirs)."""
    return any(vendor.landlord_id != landlord.id for vendor in vendors_with(number))


@bp.get("/")
@login_required
def index():
    """The logged-in landlord's vendor phones."""
    phones = [(vendor, inbox(vendor), open_offers(vendor)) for vendor in _vendors(g.landlord)]
    template = ("simulator/_phones.html" if request.headers.get("HX-Target") == "phones"
                else "simulator/index.html")
    response = current_app.make_response(render_template(template, phones=phones))
    response.headers["Vary"] = "HX-Request"
    return response


@bp.post("/vendors/<int:vendor_id>/reply")
@login_required
def reply(vendor_id: int):
    """Send one of the landlord's vendors' answers as a real SMS webhook."""
    vendor = Vendor.get_or_none(Vendor.id == vendor_id, Vendor.landlord == g.landlord)
    if vendor is None or not vendor.phones:
        abort(404)
    body = (request.form.get("body") or "").strip()[:320]
    if not body:
        flash("Type a reply first.", "error")
    elif _shared(vendor.phones[0], g.landlord):
        flash("Another account has a vendor at this number, so the simulator cannot answer "
              "for it.", "error")
    else:
        config = current_app.extensions["fixline"]
        try:
            answer = post_signed_sms(config, vendor.phones[0], body)
        except requests.RequestException as exc:
            flash(f"Fixline's webhook at {config.link_base} did not answer "
                  f"({type(exc).__name__}).", "error")
        else:
            if answer.status_code != 200:
                flash(f"The webhook answered {answer.status_code}.", "error")
    return redirect(url_for(".index"), code=303)
