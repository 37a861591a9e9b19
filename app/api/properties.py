"""Properties: the rental units a landlord owns."""

from __future__ import annotations

from peewee import IntegrityError, fn

from app import clock
from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.api.present import property_out
from app.db import transaction
from app.models import Landlord, Property


def owned_property(landlord: Landlord, property_id: int) -> Property:
    """The landlord's property, or a 404 (another landlord's property is not found either)."""
    prop = Property.get_or_none(Property.id == property_id, Property.landlord == landlord)
    if prop is None:
        raise not_found("property")
    return prop


def _duplicate(address: str) -> ApiError:
    return ApiError(409, f"you already have a property at {address!r}",
                    fields={"address": "already exists"})


@route("/properties", "GET", summary="The landlord's properties, oldest first",
       response=s.PropertyOut, many=True)
def list_properties(landlord: Landlord):
    properties = (Property.select()
                  .where(Property.landlord == landlord)
                  .order_by(Property.id))
    return [property_out(prop) for prop in properties]


@route("/properties", "POST", summary="Add a property; the same address twice is a 409",
       body=s.PropertyCreate, response=s.PropertyOut, status=201, errors=(409,))
def add_property(landlord: Landlord, body: s.PropertyCreate):
    taken = (Property.select()
             .where(Property.landlord == landlord,
                    fn.LOWER(Property.address) == body.address.lower())
             .exists())
    if taken:
        raise _duplicate(body.address)
    try:
        with transaction():
            prop = Property.create(landlord=landlord, address=body.address,
                                   timezone=body.timezone, postal_code=body.postal_code,
                                   approval_limit=body.approval_limit,
                                   emergency_approval_limit=body.emergency_approval_limit,
                                   created_at=clock.now())
    except IntegrityError:
        raise _duplicate(body.address) from None
    return property_out(prop), 201


@route("/properties/<int:property_id>", "GET", summary="One property",
       response=s.PropertyOut, errors=(404,))
def get_property(landlord: Landlord, property_id: int):
    return property_out(owned_property(landlord, property_id))
