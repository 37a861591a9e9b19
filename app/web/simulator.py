"""Demo only: the logged-in landlord's vendor and tenant phones, answering with signed
webhooks: offers, the visit (a time, DONE, CANCEL) and the tenant's questions (§9)."""

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
from peewee import JOIN
from twilio.request_validator import RequestValidator

from app.booking import questions
from app.booking.answers import vendors_with
from app.booking.dispatch import job_link
from app.config import Config
from app.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Landlord,
    Message,
    Ping,
    Property,
    Question,
    Tenant,
    Ticket,
    Vendor,
    VendorPhone,
)
from app.web.auth import login_required

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
SIMULATED_FROM = "+15005550006"  # Twilio's magic test number, standing in for Fixline's


def inbox(vendor: Vendor, limit: int = 20) -> list[Message]:
    """The vendor's landlord's messages to and from the vendor's phones, newest first."""
    return messages_of(vendor.landlord_id, [p.number for p in vendor.phone_numbers], limit)


def messages_of(landlord_id: int, numbers: list[str], limit: int = 20) -> list[Message]:
    """A landlord's messages to and from these numbers, newest first."""
    return list(Message.select()
                .where(Message.landlord == landlord_id,
                       (Message.to_number.in_(numbers) & (Message.direction == "outbound"))
                       | (Message.from_number.in_(numbers) & (Message.direction == "inbound")))
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(limit))


def open_offers(vendor: Vendor) -> list[Ping]:
    return list(Ping.select().where(Ping.vendor == vendor, Ping.outcome == "pending")
                .order_by(Ping.sent_at.desc()))


@dataclass(frozen=True)
class Held:
    """A visit the vendor holds, with the code their words name it by and its job page."""

    appointment: Appointment
    code: str | None
    link: str | None


def held_visits(vendor: Vendor, config: Config) -> list[Held]:
    """The vendor's tentative and confirmed visits, newest first."""
    visits = (Appointment.select(Appointment, Ping).join(Ping, JOIN.LEFT_OUTER)
              .where(Appointment.vendor == vendor,
                     Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
              .order_by(Appointment.id.desc()))
    found = []
    for visit in visits:
        ping = visit.ping if visit.ping_id else None
        found.append(Held(visit, ping.code if ping else None,
                          job_link(ping.token, config) if ping and ping.token else None))
    return found


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
    """What one vendor's phone shows that changes: open offers, held visits, the inbox, and
    their stamp."""

    vendor: Vendor
    offers: list[Ping]
    messages: list[Message]
    visits: list[Held] = ()

    @property
    def stamp(self) -> str:
        """Changes whenever the screen would: a message, a status, an offer, an opt-out."""
        raw = repr(([(m.id, m.status) for m in self.messages], [p.id for p in self.offers],
                    [(h.appointment.id, h.appointment.status) for h in self.visits],
                    self.vendor.opted_out))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def screen(vendor: Vendor) -> Screen:
    config = current_app.extensions["fixline"]
    return Screen(vendor, open_offers(vendor), inbox(vendor), held_visits(vendor, config))


@dataclass(frozen=True)
class TenantScreen:
    """What one tenant's phone shows that changes: their open question and inbox."""

    tenant: Tenant
    question: Question | None
    messages: list[Message]

    @property
    def stamp(self) -> str:
        raw = repr(([(m.id, m.status) for m in self.messages],
                    self.question.id if self.question else None))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LandlordScreen:
    """What the landlord's own phone shows that changes: its open question, the escalations
    it may answer (ACK, AGAIN) and its inbox."""

    landlord: Landlord
    question: Question | None
    escalated: list[Ticket]
    messages: list[Message]

    @property
    def stamp(self) -> str:
        raw = repr(([(m.id, m.status) for m in self.messages],
                    self.question.id if self.question else None,
                    [t.id for t in self.escalated]))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def landlord_screen(landlord: Landlord) -> LandlordScreen:
    escalated = list(Ticket.select().where(Ticket.landlord == landlord,
                                           Ticket.status == "escalated")
                     .order_by(Ticket.id.desc()).limit(5))
    return LandlordScreen(landlord, questions.open_for(landlord.phone), escalated,
                          messages_of(landlord.id, [landlord.phone]))


def tenant_screen(tenant: Tenant, landlord_id: int) -> TenantScreen:
    return TenantScreen(tenant, questions.open_for(tenant.phone),
                        messages_of(landlord_id, [tenant.phone]))


def _tenants(landlord: Landlord) -> list[Tenant]:
    return list(Tenant.select(Tenant, Property).join(Property)
                .where(Property.landlord == landlord).order_by(Tenant.name))


def _tenant_shared(number: str, landlord: Landlord) -> bool:
    """Whether another landlord's tenant also has this number."""
    return (Tenant.select().join(Property)
            .where(Tenant.phone == number, Property.landlord != landlord).exists())


@bp.get("/")
@login_required
def index():
    """The logged-in landlord's vendor phones; each screen polls for itself (screen_of)."""
    screens = [screen(vendor) for vendor in _vendors(g.landlord)]
    tenants = [tenant_screen(tenant, g.landlord.id) for tenant in _tenants(g.landlord)]
    response = current_app.make_response(render_template(
        "simulator/index.html", screens=screens, tenants=tenants,
        landlord=landlord_screen(g.landlord)))
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
    return _screen_response(screen(vendor), "simulator/_screen.html")


def _send(number: str, shared: bool, who: str) -> None:
    """Post the form's body from number as a real, signed SMS webhook (flash what went wrong)."""
    body = (request.form.get("body") or "").strip()[:320]
    if not body:
        flash("Type a reply first.", "error")
    elif shared:
        flash(f"Another account has a {who} at this number, so the simulator cannot answer "
              "for it.", "error")
    else:
        config = current_app.extensions["fixline"]
        try:
            answer = post_signed_sms(config, number, body)
        except requests.RequestException as exc:
            flash(f"Fixline's webhook at {config.link_base} did not answer "
                  f"({type(exc).__name__}).", "error")
        else:
            if answer.status_code != 200:
                flash(f"The webhook answered {answer.status_code}.", "error")


@bp.post("/vendors/<int:vendor_id>/reply")
@login_required
def reply(vendor_id: int):
    """Send one of the landlord's vendors' answers as a real SMS webhook."""
    vendor = Vendor.get_or_none(Vendor.id == vendor_id, Vendor.landlord == g.landlord)
    if vendor is None or not vendor.phones:
        abort(404)
    _send(vendor.phones[0], _shared(vendor.phones[0], g.landlord), "vendor")
    return redirect(url_for(".index"), code=303)


@bp.get("/landlord/screen")
@login_required
def landlord_screen_of():
    """The landlord's own phone: its question, escalations and inbox; 204 while unchanged."""
    return _screen_response(landlord_screen(g.landlord), "simulator/_landlord_screen.html")


@bp.post("/landlord/reply")
@login_required
def landlord_reply():
    """Send the logged-in landlord's answer (APPROVE, DENY, AGAIN, ACK) as a real SMS webhook."""
    shared = Landlord.select().where(Landlord.phone == g.landlord.phone,
                                     Landlord.id != g.landlord.id).exists()
    _send(g.landlord.phone, shared, "landlord")
    return redirect(url_for(".index"), code=303)


def _own_tenant(tenant_id: int) -> Tenant:
    tenant = (Tenant.select().join(Property)
              .where(Tenant.id == tenant_id, Property.landlord == g.landlord).first())
    if tenant is None:
        abort(404)
    return tenant


@bp.get("/tenants/<int:tenant_id>/screen")
@login_required
def tenant_screen_of(tenant_id: int):
    """One tenant phone's question and inbox; 204 while unchanged (as screen_of)."""
    return _screen_response(tenant_screen(_own_tenant(tenant_id), g.landlord.id),
                            "simulator/_tenant_screen.html")


def _screen_response(shown, template: str):
    """A phone's screen, or 204 (nothing swapped) while the stamp it last showed still holds."""
    if request.args.get("v") == shown.stamp:
        response = current_app.make_response(("", 204))
    else:
        response = current_app.make_response(render_template(template, screen=shown))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tenants/<int:tenant_id>/reply")
@login_required
def tenant_reply(tenant_id: int):
    """Send one of the landlord's tenants' answers as a real SMS webhook."""
    tenant = _own_tenant(tenant_id)
    _send(tenant.phone, _tenant_shared(tenant.phone, g.landlord), "tenant")
    return redirect(url_for(".index"), code=303)
