"""Tenants: who lives where, each with a private intake link and its QR code."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from app.api.present import intake_url
from app.booking.tenancy import DuplicateTenant, add_tenant, change_tenant, replace_intake_link
from app.models import Property, Tenant
from app.web import qr
from app.web.forms import TenantForm
from app.web.scoped import landlord_blueprint, owned_or_404, render_field

bp = landlord_blueprint("tenants", __name__, url_prefix="/tenants")


def owned_tenant(tenant_id: int) -> Tenant:
    return owned_or_404(Tenant.select().join(Property)
                        .where(Tenant.id == tenant_id, Property.landlord == g.landlord))


def _form_page(form: TenantForm, tenant: Tenant | None, status: int = 200):
    return render_template("tenants/form.html", form=form, tenant=tenant), status


def _fields(form: TenantForm) -> dict:
    prop = Property.get_by_id(form.property.data)  # a choice: one of the landlord's
    return dict(name=form.name.data, phone=form.phone.data, email=form.email.data, prop=prop,
                language=form.language.data)


def _taken(exc: DuplicateTenant) -> str:
    return f"{exc.existing.name} already lives there with this phone number."


@bp.get("/")
def index():
    """Every tenant of the landlord with their intake link and its QR code."""
    tenants = (Tenant.select(Tenant, Property).join(Property)
               .where(Property.landlord == g.landlord)
               .order_by(Property.address, Tenant.name))
    rows = [(tenant, intake_url(tenant)) for tenant in tenants]
    return render_template("tenants/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Add a tenant to one of the landlord's properties."""
    form = TenantForm(landlord=g.landlord)
    if request.method == "GET":
        return _form_page(form, None)
    if not form.validate():
        return _form_page(form, None, 422)
    try:
        tenant = add_tenant(**_fields(form))
    except DuplicateTenant as exc:
        form.phone.errors.append(_taken(exc))
        return _form_page(form, None, 422)
    flash(f"Added {tenant.name}. Their intake link is below.", "info")
    return redirect(url_for(".index"), code=303)


@bp.route("/<int:tenant_id>/edit", methods=["GET", "POST"])
def edit(tenant_id: int):
    """Change a tenant's details (their intake link stays the same)."""
    tenant = owned_tenant(tenant_id)
    if request.method == "GET":
        data = dict(name=tenant.name, phone=tenant.phone, email=tenant.email,
                    property=tenant.property_id, language=tenant.language)
        return _form_page(TenantForm(landlord=g.landlord, data=data), tenant)
    form = TenantForm(landlord=g.landlord)
    if not form.validate():
        return _form_page(form, tenant, 422)
    try:
        change_tenant(tenant, **_fields(form))
    except DuplicateTenant as exc:
        form.phone.errors.append(_taken(exc))
        return _form_page(form, tenant, 422)
    flash(f"Saved {form.name.data}.", "info")
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:tenant_id>/new-link")
def new_link(tenant_id: int):
    """Replace a tenant's intake link (the old one stops working at once)."""
    tenant = owned_tenant(tenant_id)
    replace_intake_link(tenant, actor=f"landlord:{g.landlord.id}")
    flash(f"{tenant.name} has a new intake link; the old one no longer works.", "info")
    return redirect(url_for(".index"), code=303)


@bp.get("/<int:tenant_id>/qr.svg")
def qr_code(tenant_id: int):
    """The intake link as a QR code (image/svg+xml)."""
    tenant = owned_tenant(tenant_id)
    response = Response(qr.svg(intake_url(tenant), title="Intake link QR code"),
                        mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/validate/<name>")
def validate(name: str):
    """Inline validation: the one field, re-rendered with its error (or its hint)."""
    field = TenantForm(landlord=g.landlord).check_field(name)
    if field is None:
        abort(404)
    return render_field(field, url_for(".validate", name=name))
