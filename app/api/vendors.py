"""Vendors: list, create, read, change and retire the businesses a landlord sends jobs to."""

from __future__ import annotations

from flask import Response

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.api.present import scorecard_out, vendor_out
from app.booking import scorecards
from app.booking.vendors import (
    VendorError,
    create_vendor,
    phones_of,
    retire_vendor,
    update_vendor,
)
from app.models import Landlord, Vendor


def owned_vendor(landlord: Landlord, vendor_id: int) -> Vendor:
    """The landlord's vendor, or a 404 (another landlord's vendor is not found either)."""
    vendor = Vendor.get_or_none(Vendor.id == vendor_id, Vendor.landlord == landlord)
    if vendor is None:
        raise not_found("vendor")
    return vendor


def _invalid(exc: VendorError) -> ApiError:
    return ApiError(422, "some fields are invalid", fields={exc.field: str(exc)})


@route("/vendors", "GET", summary="The landlord's vendors, by priority (1 first), then name",
       response=s.VendorOut, many=True)
def list_vendors(landlord: Landlord):
    vendors = list(Vendor.select()
                   .where(Vendor.landlord == landlord)
                   .order_by(Vendor.priority, Vendor.name, Vendor.id))
    phones = phones_of(vendors)
    return [vendor_out(vendor, phones.get(vendor.id, [])) for vendor in vendors]


@route("/vendors", "POST", summary="Add a vendor with its phones, specialties and hours",
       body=s.VendorCreate, response=s.VendorOut, status=201)
def add_vendor(landlord: Landlord, body: s.VendorCreate):
    try:
        vendor = create_vendor(landlord, body.model_dump())
    except VendorError as exc:
        raise _invalid(exc) from None
    return vendor_out(vendor), 201


@route("/vendors/<int:vendor_id>", "GET", summary="One vendor (a retired one reads active=false)",
       response=s.VendorOut, errors=(404,))
def get_vendor(landlord: Landlord, vendor_id: int):
    return vendor_out(owned_vendor(landlord, vendor_id))


@route("/vendors/<int:vendor_id>/scorecard", "GET",
       summary="The vendor's figures over the last 90 days: offers and answers, median answer "
               "time, visits completed, cancelled and missed, tenants' ratings (one SQL "
               "statement)",
       response=s.ScorecardOut, errors=(404,))
def vendor_scorecard(landlord: Landlord, vendor_id: int):
    card = scorecards.scorecard(landlord.id, vendor_id)
    if card is None:
        raise not_found("vendor")
    return scorecard_out(card)


@route("/vendors/<int:vendor_id>", "PUT",
       summary="Change a vendor: only the fields sent change; phones, when sent, replace all",
       body=s.VendorUpdate, response=s.VendorOut, errors=(404,))
def change_vendor(landlord: Landlord, vendor_id: int, body: s.VendorUpdate):
    vendor = owned_vendor(landlord, vendor_id)
    try:
        update_vendor(vendor, body.model_dump(exclude_unset=True))
    except VendorError as exc:
        raise _invalid(exc) from None
    return vendor_out(vendor)


@route("/vendors/<int:vendor_id>", "DELETE",
       summary="Retire a vendor; 204. One with pings or appointments is kept with active=false "
               "so history stays readable (GET still answers); one without is deleted (then 404)",
       status=204, errors=(404,))
def delete_vendor(landlord: Landlord, vendor_id: int):
    retire_vendor(owned_vendor(landlord, vendor_id))
    return Response(status=204)
