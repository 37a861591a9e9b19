"""The demo data shows issue 11's rules: postal codes, an approval limit, and three vendors
(out of area, insurance lapsed, busy tomorrow afternoon); loading twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

from app import clock
from app.models import Appointment, Property, Ticket, Vendor
from app.seed import load, showcase


def test_the_showcase_is_loaded_once(app):
    landlord = load()
    showcase(landlord)
    load()
    showcase(landlord)
    codes = [p.postal_code for p in Property.select().order_by(Property.id)]
    assert codes == ["63101", "63108", "63130"]
    first = Property.select().order_by(Property.id).first()
    assert (first.approval_limit, first.emergency_approval_limit) == (Decimal("250.00"),
                                                                      Decimal("500.00"))
    names = {v.name: v for v in Vendor.select()}
    assert names["County Drains"].service_areas == ["630"]
    assert names["Bright Spark Electric"].insurance_expires_at < clock.now().date()
    [visit] = Appointment.select()
    assert visit.vendor_id == names["Cool Air HVAC"].id and visit.starts_at > clock.now()
    assert (visit.ends_at - visit.starts_at).total_seconds() == 4 * 3600
    assert Ticket.select().count() == 1
