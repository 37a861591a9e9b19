"""The Fixline-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Fixline-Signature"


def new_secret() -> str:
    """A fresh signing secret (shown to the landlord once)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header's value for a body sent at timestamp (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"
