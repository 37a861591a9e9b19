"""The list of page blueprints (each module adds itself here when it exists)."""

from __future__ import annotations

from flask import Blueprint


def blueprints(*, demo: bool) -> list[Blueprint]:
    """Every page blueprint; the vendor phone simulator only in demo mode."""
    from app.web import auth

    found = [auth.bp]
    if demo:
        from app.web import simulator

        found.append(simulator.bp)
    return found
