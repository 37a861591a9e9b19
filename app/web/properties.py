"""Properties: the landlord's rental units, with the time zone their times are read in."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask import abort, flash, g, redirect, render_template, request, url_for
from peewee import IntegrityError, fn

from app import clock, money
from app.db import transaction
from app.models import Property, Tenant, Ticket
from app.web.forms import PropertyForm
from app.web.scoped import landlord_blueprint, owned_or_404, render_field

bp = landlord_blueprint("properties", __name__, url_prefix="/properties")
DUPLICATE = "You already have a property at this address."



@cache
def timezones() -> list[str]:
    """The zone names the time zone field suggests."""
    return sorted(available_timezones())


def owned_property(property_id: int) -> Property:
    return owned_or_404(Property.select().where(Property.id == property_id,
                                                Property.landlord == g.landlord))


def _form_page(form: PropertyForm, prop: Property | None, status: int = 200):
    return render_template("properties/form.html", form=form, property=prop,
                           timezones=timezones()), status


def _save(form: PropertyForm, prop: Property | None):
    """Write the property; an address taken in a race lands on its field (422)."""
    values = dict(address=form.address.data, timezone=form.timezone.data,
                  postal_code=form.postal_code.data, approval_limit=form.approval_limit.data,
                  emergency_approval_limit=form.emergency_approval_limit.data)
    try:
        with transaction():
            if prop is None:
                prop = Property.create(landlord=g.landlord, created_at=clock.now(), **values)
            else:
                for name, value in values.items():
                    setattr(prop, name, value)
                prop.save()
    except IntegrityError:
        form.address.errors.append(DUPLICATE)
        return _form_page(form, prop, 422)
    flash(f"Saved {prop.address}.", "info")
    return redirect(url_for(".index"), code=303)


@bp.get("/")
def index():
    """Every property of the landlord, with how many tenants and tickets it has, its postal
    code and approval limits."""
    tenants = Tenant.select(fn.COUNT(Tenant.id)).where(Tenant.property == Property.id)
    tickets = Ticket.select(fn.COUNT(Ticket.id)).where(Ticket.property == Property.id)
    properties = (Property.select(Property, tenants.alias("tenant_count"),
                                  tickets.alias("ticket_count"))
                  .where(Property.landlord == g.landlord)
                  .order_by(Property.address))
    return render_template("properties/index.html", properties=properties, money=money.show)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Add a property."""
    form = PropertyForm(landlord=g.landlord)
    if request.method == "GET":
        return _form_page(form, None)
    if not form.validate():
        return _form_page(form, None, 422)
    return _save(form, None)


@bp.route("/<int:property_id>/edit", methods=["GET", "POST"])
def edit(property_id: int):
    """Change a property's address, time zone, postal code or approval limits."""
    prop = owned_property(property_id)
    if request.method == "GET":
        return _form_page(PropertyForm(landlord=g.landlord, current=prop, obj=prop), prop)
    form = PropertyForm(landlord=g.landlord, current=prop)
    if not form.validate():
        return _form_page(form, prop, 422)
    return _save(form, prop)


@bp.post("/validate/<name>", defaults={"property_id": None})
@bp.post("/<int:property_id>/validate/<name>")
def validate(name: str, property_id: int | None):
    """Inline validation: the one field, re-rendered with its error (or its hint)."""
    prop = owned_property(property_id) if property_id is not None else None
    field = PropertyForm(landlord=g.landlord, current=prop).check_field(name)
    if field is None:
        abort(404)
    return render_field(field, request.path)
