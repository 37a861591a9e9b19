"""Vendors: the landlord's list with insurance marks and scorecards, and forms to add and
change one (app.booking.vendors does it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for

from app.booking import insurance, scorecards
from app.booking.hours import describe
from app.booking.vendors import VendorError, create_vendor, phones_of, update_vendor
from app.models import Vendor
from app.web.charts import Bar, bar_chart, duration
from app.web.forms import VendorForm
from app.web.scoped import landlord_blueprint, owned_or_404, render_field

bp = landlord_blueprint("vendors", __name__, url_prefix="/vendors")
FORM_FIELDS = {"name": "name", "phones": "phones", "specialties": "specialties",
               "hours": "hours", "priority": "priority", "preferredChannel": "preferred_channel",
               "active": "active", "notes": "notes", "serviceAreas": "service_areas",
               "maxVisitsPerDay": "max_visits_per_day",
               "insuranceExpiresAt": "insurance_expires_at"}
CHART_LABEL_CHARS = 10


@dataclass(frozen=True)
class Row:
    """One vendor as the list shows it."""

    vendor: Vendor
    hours: str  # the hours as read
    phones: list[str]
    insurance: str | None  # 'lapsed', 'soon' or None (app.booking.insurance.standing)
    days_left: int | None  # until the insurance expires
    card: scorecards.Scorecard


def owned_vendor(vendor_id: int) -> Vendor:
    return owned_or_404(Vendor.select().where(Vendor.id == vendor_id,
                                              Vendor.landlord == g.landlord))


def _form_page(form: VendorForm, vendor: Vendor | None, status: int = 200):
    return render_template("vendors/form.html", form=form, vendor=vendor), status


def _save(form: VendorForm, vendor: Vendor | None):
    """Create or change the vendor; a refusal from the domain lands on its field (422)."""
    try:
        if vendor is None:
            vendor = create_vendor(g.landlord, form.fields_for_vendor())
            flash(f"Added {vendor.name}.", "info")
        else:
            update_vendor(vendor, form.fields_for_vendor())
            flash(f"Saved {vendor.name}.", "info")
    except VendorError as exc:
        form[FORM_FIELDS.get(exc.field, "name")].errors.append(str(exc))
        return _form_page(form, vendor, 422)
    return redirect(url_for(".index"), code=303)


def _row(vendor: Vendor, phones: list[str], card: scorecards.Scorecard | None,
         today: date) -> Row:
    expires = vendor.insurance_expires_at
    return Row(vendor=vendor, hours=describe(vendor.schedule or []), phones=phones,
               insurance=insurance.standing(expires, today),
               days_left=(expires - today).days if expires is not None else None,
               card=card or scorecards.Scorecard(vendor.id))


def response_chart(rows: list[Row]):
    """Bars of each vendor's median time to answer an offer (vendors with answers only)."""
    bars = [Bar(seconds=row.card.median_response_seconds,
                label=row.vendor.name[:CHART_LABEL_CHARS],
                title=f"{row.vendor.name}: median answer in "
                      f"{duration(row.card.median_response_seconds)} "
                      f"({row.card.accepted + row.card.declined} answered)")
            for row in rows if row.card.median_response_seconds is not None]
    description = ("; ".join(bar.title for bar in bars) + "." if bars
                   else "No vendor has answered an offer in the last 90 days.")
    return bar_chart(bars, title="Median time to answer an offer, last 90 days",
                     description=description, x_label="Vendors", y_label="Median answer",
                     chart_id="response-times"), len(bars)


@bp.get("/")
def index():
    """Every vendor of the landlord, best priority first, with insurance marks and the last
    90 days' figures (a fixed number of queries however many vendors)."""
    vendors = list(Vendor.select()
                   .where(Vendor.landlord == g.landlord)
                   .order_by(Vendor.active.desc(), Vendor.priority, Vendor.name))
    phones = phones_of(vendors)
    cards = scorecards.scorecards(g.landlord.id)
    today = insurance.today(insurance.landlord_zone(g.landlord.id))
    rows = [_row(vendor, phones.get(vendor.id, []), cards.get(vendor.id), today)
            for vendor in vendors]
    chart, charted = response_chart(rows)
    return render_template("vendors/index.html", rows=rows, chart=chart, charted=charted,
                           soon_days=insurance.SOON_DAYS, duration=duration)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Add a vendor."""
    form = VendorForm()
    if request.method == "GET":
        return _form_page(form, None)
    if not form.validate():
        return _form_page(form, None, 422)
    return _save(form, None)


@bp.route("/<int:vendor_id>/edit", methods=["GET", "POST"])
def edit(vendor_id: int):
    """Change a vendor."""
    vendor = owned_vendor(vendor_id)
    if request.method == "GET":
        return _form_page(VendorForm.for_vendor(vendor), vendor)
    form = VendorForm()
    if not form.validate():
        return _form_page(form, vendor, 422)
    return _save(form, vendor)


@bp.post("/validate/<name>")
def validate(name: str):
    """Inline validation: the one field, re-rendered with its error (or its hint)."""
    form = VendorForm()
    field = form.check_field(name)
    if field is None:
        abort(404)
    return render_field(field, url_for(".validate", name=name))
