"""Tenants: the people who live at a landlord's properties, each with a private intake link."""

from __future__ import annotations

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.api.present import tenant_out
from app.booking import tenancy
from app.models import Landlord, Property, Tenant


def owned_tenant(landlord: Landlord, tenant_id: int) -> Tenant:
    """The landlord's tenant, or a 404 (another landlord's tenant is not found either)."""
    tenant = (Tenant.select()
              .join(Property)
              .where(Tenant.id == tenant_id, Property.landlord == landlord)
              .first())
    if tenant is None:
        raise not_found("tenant")
    return tenant


@route("/tenants", "GET", summary="The landlord's tenants with their intake links, oldest first",
       response=s.TenantOut, many=True)
def list_tenants(landlord: Landlord):
    tenants = (Tenant.select()
               .join(Property)
               .where(Property.landlord == landlord)
               .order_by(Tenant.id))
    return [tenant_out(tenant) for tenant in tenants]


@route("/tenants", "POST", summary="Add a tenant to one of the landlord's properties",
       body=s.TenantCreate, response=s.TenantOut, status=201)
def add_tenant(landlord: Landlord, body: s.TenantCreate):
    prop = Property.get_or_none(Property.id == body.property_id, Property.landlord == landlord)
    if prop is None:
        raise ApiError(422, "some fields are invalid", fields={"propertyId": "no such property"})
    try:
        tenant = tenancy.add_tenant(prop, name=body.name, phone=body.phone, email=body.email,
                                    language=body.language)
    except tenancy.DuplicateTenant as exc:
        raise ApiError(422, "some fields are invalid", fields={"phone": str(exc)}) from None
    return tenant_out(tenant), 201


@route("/tenants/<int:tenant_id>", "GET", summary="One tenant with its intake link",
       response=s.TenantOut, errors=(404,))
def get_tenant(landlord: Landlord, tenant_id: int):
    return tenant_out(owned_tenant(landlord, tenant_id))
