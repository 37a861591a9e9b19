"""The list of page blueprints (each module adds itself here when it exists)."""

from __future__ import annotations

from flask import Blueprint


def blueprints(*, demo: bool) -> list[Blueprint]:
    """Every page blueprint; the vendor phone simulator only in demo mode."""
    from app.web import auth, intake

    found = [auth.bp, intake.bp]
    from app.web import dashboard

    found.append(dashboard.bp)
    from app.web import faults, messages, properties, tenants, tickets, vendors

    found += [tickets.bp, vendors.bp, properties.bp, tenants.bp, messages.bp, faults.bp]
    from app.web import jobs

    found.append(jobs.bp)
    from app.web import integrations

    found.append(integrations.bp)
    if demo:
        from app.web import simulator

        found.append(simulator.bp)
    return found
