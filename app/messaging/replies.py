"""Reading what a vendor, tenant or landlord texts back: YES/NO with an optional job code and
visit time, TIME/DONE/CANCEL with a job code, QUOTE with an amount, NOT FIXED, a 1-5 rating,
STOP/START/HELP, and a landlord's ACK, APPROVE, DENY and AGAIN with an optional number.

Tenants' and vendors' words are read in English and Spanish alike, whatever their language
(CONTRACT §13): SI/SÍ is YES, HORA is TIME, LISTO is DONE, CANCELAR is CANCEL, PRECIO is QUOTE,
NO ARREGLADO is NOT FIXED, AYUDA is HELP. The carriers' STOP and START stay as they are."""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCEPT_WORDS = frozenset({"YES", "Y", "1", "ACCEPT", "YEP", "YEAH", "OK",
                          "SI", "SÍ", "ACEPTO", "VALE"})
DECLINE_WORDS = frozenset({"NO", "N", "2", "DECLINE", "PASS", "NOPE", "PASO", "RECHAZO"})
# Carrier opt-out and opt-in keywords (Twilio's defaults).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
                        "REVOKE", "STOP ALL"})
START_WORDS = frozenset({"START", "YES START", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})
ACK_WORDS = frozenset({"ACK", "ACKNOWLEDGE", "ACKNOWLEDGED"})  # a landlord stops an alert
# The visit (CONTRACT.md §9): a vendor's words about the job they hold.
TIME_WORDS = frozenset({"TIME", "RESCHEDULE", "MOVE", "HORA", "CAMBIAR"})
DONE_WORDS = frozenset({"DONE", "FINISHED", "COMPLETE", "COMPLETED", "LISTO", "TERMINADO",
                        "TERMINE", "TERMINÉ", "HECHO"})
HAND_BACK_WORDS = frozenset({"CANCEL", "RELEASE", "HANDBACK",  # CANCEL alone is STOP
                             "CANCELAR", "DEVOLVER"})
NOT_FIXED = frozenset({"NOT FIXED", "NOTFIXED", "NOT FIXED YET", "STILL BROKEN",
                       "NO ARREGLADO", "NO ESTA ARREGLADO", "NO ESTÁ ARREGLADO",
                       "NO QUEDO ARREGLADO", "NO QUEDÓ ARREGLADO", "SIGUE ROTO"})
# Costs and approvals (CONTRACT.md §11): a vendor's price, a landlord's answers by number.
QUOTE_WORDS = frozenset({"QUOTE", "ESTIMATE", "PRICE", "PRECIO", "PRESUPUESTO", "COTIZACION",
                         "COTIZACIÓN"})
APPROVE_WORDS = frozenset({"APPROVE", "APPROVED"})
DENY_WORDS = frozenset({"DENY", "DENIED", "REJECT"})
AGAIN_WORDS = frozenset({"AGAIN", "REDISPATCH"})  # ask every matching vendor again
NUMBERED = {**dict.fromkeys(APPROVE_WORDS, "approve"), **dict.fromkeys(DENY_WORDS, "deny"),
            **dict.fromkeys(AGAIN_WORDS, "again"), **dict.fromkeys(ACK_WORDS, "ack")}
WORDS = {**dict.fromkeys(ACCEPT_WORDS, "accept"), **dict.fromkeys(DECLINE_WORDS, "decline"),
         **dict.fromkeys(TIME_WORDS, "time"), **dict.fromkeys(DONE_WORDS, "done"),
         **dict.fromkeys(HAND_BACK_WORDS, "cancel")}
NEEDS_CODE = frozenset({"cancel"})  # a bare CANCEL is the carrier's opt-out word

CODE_RE = re.compile(r"^[A-Z0-9]{4}$")
# Four characters that read as a time, not a job code ("YES 10AM", "TIME TUES 9am").
# Only real clock readings: a job code of digits (3479, 77AM) is never one (hour 34, 77).
TIME_TOKEN = re.compile(r"^(?:(?:1[0-2]|0?[1-9])(?:AM|PM|A|P)|(?:[01]?[0-9]|2[0-3])[:.]?[0-5][0-9]"
                        r"|NOON|TMRW|TUES|THUR|WEDS|NEXT|THIS|FROM|WEEK|SOON|ASAP|ANY|AT"
                        r"|ESTA|ESTE|HOY|LAS)$")
RATING = re.compile(r"^\s*([1-5])\s*(?:/\s*5|stars?|estrellas?|out of 5|de 5)?\s*[.!]*\s*$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    """What a message means: kind is accept, decline, time, done, cancel, quote, not_fixed,
    stop, start, help, ack, approve, deny, again or unknown; code is a job code, or for ack
    and again the ticket number it names, for approve and deny the quote's; text is what
    followed the word and code as typed (a visit time, a quote's amount)."""

    kind: str
    code: str | None = None
    text: str = ""


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
    if joined in NOT_FIXED:
        return Reply("not_fixed")
    word, rest = text[0], text[1:]
    if word in NUMBERED and len(rest) <= 1 and all(p.isascii() and p.isdigit() for p in rest):
        return Reply(NUMBERED[word], rest[0] if rest else None)
    if word in QUOTE_WORDS:
        return _quote(body)
    kind = WORDS.get(word)
    if kind is None:
        return Reply("unknown")
    code = rest[0] if rest and CODE_RE.match(rest[0]) and not TIME_TOKEN.match(rest[0]) else None
    if kind in NEEDS_CODE and code is None:
        return Reply("unknown")
    text = _after(body, 2 if code else 1)
    if kind == "decline" and text:  # "no way": a NO says nothing more
        return Reply("unknown")
    return Reply(kind, code, text)


AMOUNT_LIKE = re.compile(r"^\$?[\d,]*\.?\d*$")


def _quote(body: str) -> Reply:
    """QUOTE K7Q2 350.50, or QUOTE 350 (a lone number is the amount, never a code)."""
    rest = body.split()[1:]
    first = re.sub(r"[^\w]", "", rest[0]).upper() if rest else ""
    if CODE_RE.match(first) and (len(rest) > 1 or not AMOUNT_LIKE.match(rest[0])):
        return Reply("quote", first, " ".join(rest[1:]))
    return Reply("quote", None, " ".join(rest))


def _after(body: str, words: int) -> str:
    """The message as typed after its first words (the reply word, and the code if any)."""
    parts = body.split(None, words)
    return parts[words].strip() if len(parts) > words else ""


def rating(body: str | None) -> int | None:
    """A tenant's 1-5 rating ("4", "5 stars", "3/5"), or None."""
    match = RATING.match(body or "")
    return int(match[1]) if match else None


def parse_digits(digits: str | None) -> Reply:
    """Classify a keypad answer from a voice call: 1 accepts, 2 declines."""
    return {"1": Reply("accept"), "2": Reply("decline")}.get((digits or "").strip()[:1],
                                                           Reply("unknown"))
