"""The Channel interface, the local outbox and the Twilio implementation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from app.config import Config
from app.models import Message


class SendError(Exception):
    """The provider refused or could not be reached; retryable says whether to try again."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Sent:
    """What a channel reports after handing a message over."""

    provider_id: str
    status: str  # stored (outbox) or the provider's status, e.g. queued, sent


class Channel(Protocol):
    """Something that can carry a Message to a person."""

    name: str
    remote: bool  # True when send() crosses the network (never inside a write transaction)

    def send(self, message: Message, config: Config) -> Sent: ...


class Outbox:
    """Keeps messages locally: stored and listed, never sent (no Twilio configured)."""

    name = "outbox"
    remote = False

    def send(self, message: Message, config: Config) -> Sent:
        return Sent(provider_id="OB" + secrets.token_hex(16), status="stored")


def channel_for(config: Config, kind: str) -> Channel:
    """The channel that carries kind (sms, voice, email) under this configuration."""
    if config.twilio_enabled and kind in ("sms", "voice"):
        from app.messaging.twilio import TwilioChannel

        return TwilioChannel()
    if config.smtp_url and kind == "email":
        from app.messaging.smtp import SmtpChannel

        return SmtpChannel()
    return Outbox()
