"""Demo only: each vendor's phone, answering offers with correctly signed Twilio webhooks."""

from __future__ import annotations

import secrets

import requests
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from twilio.request_validator import RequestValidator

from app.models import Message, Ping, Vendor, VendorPhone

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
SIMULATED_FROM = "+15005550006"  # Twilio's magic test number, standing in for Fixline's


def inbox(vendor: Vendor, limit: int = 20) -> list[Message]:
    """Messages to and from a vendor's phones, newest first."""
    numbers = [p.number for p in vendor.phone_numbers]
    return list(Message.select()
                .where((Message.to_number.in_(numbers) & (Message.direction == "outbound"))
                       | (Message.from_number.in_(numbers) & (Message.direction == "inbound")))
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(limit))


def open_offers(vendor: Vendor) -> list[Ping]:
    return list(Ping.select().where(Ping.vendor == vendor, Ping.outcome == "pending")
                .order_by(Ping.sent_at.desc()))


def post_signed_sms(base_url: str, from_number: str, body: str) -> requests.Response:
    """POST an inbound SMS to the real webhook, signed exactly as Twilio signs it."""
    config = current_app.extensions["fixline"]
    url = (config.public_base_url or base_url.rstrip("/")) + url_for("webhooks.sms")
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
            "From": from_number, "To": config.twilio_from_number or SIMULATED_FROM,
            "Body": body, "NumMedia": "0"}
    signature = RequestValidator(config.webhook_auth_token).compute_signature(url, form)
    target = base_url.rstrip("/") + url_for("webhooks.sms")
    return requests.post(target, data=form, headers={"X-Twilio-Signature": signature},
                         timeout=10)


def _vendors() -> list[Vendor]:
    return list(Vendor.select().where(Vendor.id.in_(VendorPhone.select(VendorPhone.vendor)))
                .order_by(Vendor.name))


@bp.get("/")
def index():
    """Every vendor's phone."""
    phones = [(vendor, inbox(vendor), open_offers(vendor)) for vendor in _vendors()]
    template = ("simulator/_phones.html" if request.headers.get("HX-Target") == "phones"
                else "simulator/index.html")
    response = current_app.make_response(render_template(template, phones=phones))
    response.headers["Vary"] = "HX-Request"
    return response


@bp.post("/vendors/<int:vendor_id>/reply")
def reply(vendor_id: int):
    """Send the vendor's answer (YES/NO with the job code, or any text) as a real SMS webhook."""
    vendor = Vendor.get_or_none(Vendor.id == vendor_id)
    if vendor is None or not vendor.phones:
        flash("No such vendor phone.", "error")
        return redirect(url_for(".index"), code=303)
    body = (request.form.get("body") or "").strip()[:320]
    if not body:
        flash("Type a reply first.", "error")
        return redirect(url_for(".index"), code=303)
    answer = post_signed_sms(request.host_url, vendor.phones[0], body)
    if answer.status_code != 200:
        flash(f"The webhook answered {answer.status_code}.", "error")
    return redirect(url_for(".index"), code=303)
