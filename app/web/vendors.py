"""Vendors: the landlord's list, and forms to add and change one (app.booking.vendors does it)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from app.booking.hours import describe
from app.booking.vendors import VendorError, create_vendor, update_vendor
from app.models import Vendor
from app.web.forms import VendorForm
from app.web.scoped import landlord_blueprint, owned_or_404, render_field

bp = landlord_blueprint("vendors", __name__, url_prefix="/vendors")
FORM_FIELDS = {"name": "name", "phones": "phones", "specialties": "specialties",
               "hours": "hours", "priority": "priority", "preferredChannel": "preferred_channel",
               "active": "active", "notes": "notes"}


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


@bp.get("/")
def index():
    """Every vendor of the landlord, best priority first."""
    vendors = (Vendor.select()
               .where(Vendor.landlord == g.landlord)
               .order_by(Vendor.active.desc(), Vendor.priority, Vendor.name))
    rows = [(vendor, describe(vendor.schedule or [])) for vendor in vendors]
    return render_template("vendors/index.html", rows=rows)


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
