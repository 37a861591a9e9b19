"""Demo only: the logged-in landlord's vendor phones, answering offers with signed webhooks."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Screen:
    """What one phone shows that changes: its open offers and its inbox, and their stamp."""

    vendor: Vendor
    offers: list[Ping]
    messages: list[Message]

    @property
    def stamp(self) -> str:
        """Changes whenever the screen would: a message, a status, an offer, an opt-out."""
        raw = repr(([(m.id, m.status) for m in self.messages], [p.id for p in self.offers],
                    self.vendor.opted_out))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def screen(vendor: Vendor) -> Screen:
    return Screen(vendor, open_offers(vendor), inbox(vendor))


@bp.get("/")
@login_required
def index():
    """The logged-in landlord's vendor phones; each screen polls for itself (screen_of)."""
    screens = [screen(vendor) for vendor in _vendors(g.landlord)]
    response = current_app.make_response(render_template("simulator/index.html",
                                                          screens=screens))
    response.headers["Vary"] = "HX-Request"
    return response


@bp.get("/vendors/<int:vendor_id>/screen")
@login_required
def screen_of(vendor_id: int):
    """One phone's offers and inbox; 204 (nothing swapped) while its stamp is unchanged, so
    the text being typed and the focused button elsewhere on the page are left alone."""
    vendor = Vendor.get_or_none(Vendor.id == vendor_id, Vendor.landlord == g.landlord)
    if vendor is None:
        abort(404)
    shown = screen(vendor)
    if request.args.get("v") == shown.stamp:
        response = current_app.make_response(("", 204))
    else:
        response = current_app.make_response(
            render_template("simulator/_screen.html", screen=shown))
    response.headers["Cache-Control"] = "no-store"
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
