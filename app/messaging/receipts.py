"""Signed webhooks seen lately: Twilio's retry passes, its signature over shifted parameters not.

Twilio signs URL + name1 + value1 + name2 + value2 … (names sorted) with no separators, so a
captured request re-sent with the boundaries between names and values moved (say, the next
parameter glued onto MessageSid, which dodges the MessageSid dedupe) still validates. Each
signed request leaves a receipt under its signature, and under its I-Twilio-Idempotency-Token
when it has one, with a digest of its parameters taken apart unambiguously: the same key with
the same digest is a retry, the same key with another digest a replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import timedelta

from app import clock
from app.db import transaction
from app.joined import joined
from app.models import WebhookReceipt

RECEIPT_SECONDS = 600  # how long a receipt is kept; prune_receipts() drops older ones


def digest(url: str, params: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the signed URL and the sorted (name, value) pairs, each kept apart."""
    canonical = json.dumps([url, sorted(params)], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def keys(signature: str, idempotency_token: str | None) -> list[str]:
    """Receipt keys: the signature always, the idempotency token when there is one.

    The token is an unsigned header, so it never replaces the signature as a key: a replay
    with a made-up token would otherwise pass.
    """
    found = [f"sig:{signature}"]
    if idempotency_token:
        found.append(f"idem:{idempotency_token}")
    return [hashlib.sha256(key.encode()).hexdigest() for key in found]


def admit(receipt_keys: list[str], request_digest: str) -> bool:
    """Record the receipts; False when a key was already seen with other parameters. Inside a
    transaction (an SMS's: answers.on_sms) they are part of it, and go with it if it fails."""
    with joined():
        stored = [WebhookReceipt.create_unless(WebhookReceipt.key, key=key,
                                               digest=request_digest, created_at=clock.now())
                  for key in receipt_keys]
        if all(row is not None for row in stored):  # all this request's own: a first delivery
            return True
        seen = (WebhookReceipt
                .select(WebhookReceipt.digest)
                .where(WebhookReceipt.key.in_(receipt_keys)))
        return all(row.digest == request_digest for row in seen)


def prune_receipts() -> int:
    """Delete receipts older than RECEIPT_SECONDS; how many went."""
    cutoff = clock.now() - timedelta(seconds=RECEIPT_SECONDS)
    with transaction():
        return (WebhookReceipt
                .delete()
                .where(WebhookReceipt.created_at < cutoff)
                .execute())
