"""Landlord accounts: passwords and the session generation that ends every session at once."""

from __future__ import annotations

from werkzeug.security import generate_password_hash

from app.db import transaction
from app.models import Landlord


def end_sessions(landlord_id: int) -> None:
    """End every dashboard session of the landlord (logout, CONTRACT.md §14)."""
    with transaction():
        (Landlord
         .update(session_generation=Landlord.session_generation + 1)
         .where(Landlord.id == landlord_id)
         .execute())


def change_password(landlord_id: int, password: str) -> None:
    """Set a new password and end every session of the landlord, in one UPDATE."""
    with transaction():
        (Landlord
         .update(password_hash=generate_password_hash(password),
                 session_generation=Landlord.session_generation + 1)
         .where(Landlord.id == landlord_id)
         .execute())
