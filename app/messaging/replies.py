"""Reading what a vendor (or a landlord) texts back: YES/NO with an optional job code,
STOP/START/HELP, ACK."""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCEPT_WORDS = frozenset({"YES", "Y", "1", "ACCEPT", "YEP", "YEAH", "OK"})
DECLINE_WORDS = frozenset({"NO", "N", "2", "DECLINE", "PASS", "NOPE"})
# Carrier opt-out and opt-in keywords (Twilio's defaults).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
                        "REVOKE", "STOP ALL"})
START_WORDS = frozenset({"START", "YES START", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})
ACK_WORDS = frozenset({"ACK", "ACKNOWLEDGE", "ACKNOWLEDGED"})  # a landlord stops an alert

CODE_RE = re.compile(r"^[A-Z0-9]{4}$")


@dataclass(frozen=True)
class Reply:
    """What a message means: kind is accept, decline, stop, start, help, ack or unknown; code
    is a job code, or for ack the ticket number it names."""

    kind: str
    code: str | None = None


def parse(body: str | None) -> Reply:
    """Classify an inbound SMS body; a trailing 4-character job code is kept."""
    text = re.sub(r"[^\w\s]", " ", (body or "").upper()).split()
    if not text:
        return Reply("unknown")
    joined = " ".join(text)
    if joined in STOP_WORDS:
        return Reply("stop")
    if joined in START_WORDS:
        return Reply("start")
    if joined in HELP_WORDS:
        return Reply("help")
    word, rest = text[0], text[1:]
    if word in ACK_WORDS and len(rest) <= 1 and all(p.isascii() and p.isdigit() for p in rest):
        return Reply("ack", rest[0] if rest else None)
    code = rest[0] if rest and CODE_RE.match(rest[0]) else None
    if len(rest) > 1 or (rest and code is None):
        return Reply("unknown")
    if word in ACCEPT_WORDS:
        return Reply("accept", code)
    if word in DECLINE_WORDS:
        return Reply("decline", code)
    return Reply("unknown")


def parse_digits(digits: str | None) -> Reply:
    """Classify a keypad answer from a voice call: 1 accepts, 2 declines."""
    return {"1": Reply("accept"), "2": Reply("decline")}.get((digits or "").strip()[:1],
                                                           Reply("unknown"))
