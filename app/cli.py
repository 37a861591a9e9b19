"""Flask CLI commands (CONTRACT.md §3); each is thin and calls the domain."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import events, phones
from app.accounts import change_password
from app.api.auth import mint
from app.db import db, transaction
from app.models import Landlord

db_cli = AppGroup("db", help="Database schema.")
landlord_cli = AppGroup("landlord", help="Landlord accounts.")
api_key_cli = AppGroup("api-key", help="API keys.")
events_cli = AppGroup("events", help="The event store.")


def _landlord(email: str) -> Landlord:
    landlord = Landlord.get_or_none(Landlord.email == email.strip().lower())
    if landlord is None:
        raise click.ClickException(f"no landlord with email {email}")
    return landlord


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations from migrations/."""
    from app.migrate import upgrade

    with db.connection_context():
        applied = upgrade()
    click.echo("\n".join(f"applied {name}" for name in applied) or "database is up to date")


@click.command("seed")
def seed() -> None:
    """Load the demo data (idempotent)."""
    from app.seed import load

    with db.connection_context():
        landlord = load()
    click.echo(f"demo data loaded for {landlord.email}")


@landlord_cli.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--phone", required=True)
def landlord_create(name: str, email: str, phone: str) -> None:
    """Add a landlord."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="--email")
    try:
        phone = phones.parse(phone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--phone") from None
    with db.connection_context(), transaction():
        if Landlord.select().where(Landlord.email == email).exists():
            raise click.ClickException(f"a landlord with email {email} already exists")
        landlord = Landlord.create(name=name.strip(), email=email, phone=phone)
    click.echo(f"landlord {landlord.id} created: {landlord.name} <{landlord.email}>")


@api_key_cli.command("create")
@click.argument("email")
def api_key_create(email: str) -> None:
    """Create an API key and print it once, alone on the last line."""
    with db.connection_context(), transaction():
        key = mint(_landlord(email))
    click.echo(f"API key for {email} (shown once; only its hash is stored):")
    click.echo(key)


@click.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(email: str, password: str) -> None:
    """Set a landlord's dashboard password; every session of theirs ends."""
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    with db.connection_context(), transaction():
        landlord = _landlord(email)
        change_password(landlord.id, password)
    click.echo(f"password set for {landlord.email}; their sessions have ended")


@events_cli.command("replay")
@click.option("--ticket", "ticket_id", type=int, default=None, help="only this ticket's events")
def events_replay(ticket_id: int | None) -> None:
    """Re-deliver recorded events to their handlers (idempotent: nothing doubles)."""
    with db.connection_context():
        count = events.replay(current_app.extensions["fixline"], ticket_id)
    click.echo(f"replayed {count} event(s)")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for command in (db_cli, landlord_cli, api_key_cli, events_cli, seed, set_password):
        app.cli.add_command(command)
