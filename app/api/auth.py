"""API keys: minted once, stored as a SHA-256 hash, checked on every /api request."""

from __future__ import annotations

import hashlib
import secrets

from flask import g, request

from app import clock
from app.api.errors import ApiError
from app.db import transaction
from app.models import ApiKey, Landlord
from app.prepared import Param, Prepared

PREFIX = "fx_"
LIVE_KEY = Prepared(lambda: ApiKey.select(ApiKey, Landlord).join(Landlord).where(
    ApiKey.key_hash == Param("hash"), ApiKey.revoked_at.is_null()).limit(1))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mint(landlord: Landlord) -> str:
    """Create a key for landlord and return it; only its hash is kept."""
    key = PREFIX + secrets.token_urlsafe(32)
    with transaction():
        ApiKey.create(landlord=landlord, prefix=key[:10], key_hash=hash_key(key))
    return key


def landlord_for(key: str) -> Landlord | None:
    """The landlord a live key belongs to, or None."""
    api_key = LIVE_KEY.first(hash=hash_key(key))
    if api_key is None:
        return None
    now = clock.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        with transaction():  # SQLite: in the writers' queue, not polling beside it
            ApiKey.update(last_used_at=now).where(ApiKey.id == api_key.id).execute()
    return api_key.landlord


def authenticate() -> Landlord:
    """Resolve the Bearer key of this request to its landlord, or raise 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "missing API key: send Authorization: Bearer <key>",
                       headers={"WWW-Authenticate": 'Bearer realm="fixline"'})
    landlord = landlord_for(key.strip())
    if landlord is None:
        raise ApiError(401, "invalid or revoked API key",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.landlord = landlord
    return landlord
