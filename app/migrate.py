"""Schema migrations: the numbered scripts in migrations/, applied with playhouse.migrations."""

from __future__ import annotations

from playhouse.migrations import Runner

from app.config import ROOT
from app.db import db

MIGRATIONS_DIR = ROOT / "migrations"


def runner() -> Runner:
    return Runner(db.obj, directory=str(MIGRATIONS_DIR))


def upgrade() -> list[str]:
    """Apply every pending migration in order; returns the names applied."""
    return runner().up()


def pending() -> list[str]:
    return [m.name for m in runner().status() if not m.applied]
