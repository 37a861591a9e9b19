"""GSM-7 texts (CONTRACT §13): which text fits the alphabet, how many segments an SMS costs,
and fitting what a person typed into a message without pushing it out of GSM-7 or past two
segments.

The alphabet and its escapes are the gsm0338 codec's; characters outside it are transliterated
with anyascii (curly quotes, dashes, accents GSM-7 lacks, other scripts, emoji).
"""

from __future__ import annotations

import re

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from anyascii import anyascii

CODEC = "gsm03.38"
SINGLE, PART = 160, 153  # GSM-7 septets: one segment, each part of a longer message
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units, when any character is outside GSM-7
MAX_SEGMENTS = 2  # what typed text may cost a message at most
TYPED_START, TYPED_END = "\ue000", "\ue001"  # private-use marks around typed text (typed())
KEPT = "\ue002"  # first inside the marks: typed text shortened only when nothing else is left
_TYPED = re.compile(f"{TYPED_START}(.*?){TYPED_END}", re.S)
ELLIPSIS = "..."


def _alphabet() -> tuple[str, str]:
    """The codec's one-septet characters and its escaped (two-septet) ones."""
    escape = 0x1B
    # The escape itself encodes as one septet too, as the codec has it.
    basic = "".join(bytes([b]).decode(CODEC) for b in range(128) if b != escape) + chr(escape)
    escaped = []
    for b in range(128):
        try:
            char = bytes([escape, b]).decode(CODEC)
        except UnicodeDecodeError:
            continue
        if len(char) == 1 and char not in basic:
            escaped.append(char)
    return basic, "".join(escaped)


# Counted with C-speed string scans instead of the codec (a pure-Python encoder, ~100 µs a
# message, called several times while fitting each SMS); tests/test_gsm.py checks both agree
# on every character.
_BASIC, _ESCAPED = _alphabet()
_OUTSIDE = re.compile(f"[^{re.escape(_BASIC + _ESCAPED)}]")


def _septets(text: str) -> int | None:
    """GSM-7 septets text takes (an escaped character takes two), or None when it cannot."""
    if _OUTSIDE.search(text):
        return None
    return len(text) + sum(text.count(char) for char in _ESCAPED)


def is_gsm(text: str) -> bool:
    return _septets(text) is not None


def segments(text: str) -> int:
    """How many SMS segments text is sent as (GSM-7 when it fits, else UCS-2)."""
    septets = _septets(text)
    if septets is not None:
        return 1 if septets <= SINGLE else -(-septets // PART)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= UCS2_SINGLE else -(-units // UCS2_PART)


def to_gsm(text: str) -> str:
    """text with every character outside GSM-7 transliterated ('“Hi” – José' stays as
    '"Hi" - José': é is GSM-7, the quotes and dash are not)."""
    if is_gsm(text):
        return text
    out = []
    for char in text:
        out.append(char if is_gsm(char) else to_gsm_char(char))
    return "".join(out)


def to_gsm_char(char: str) -> str:
    """One character outside GSM-7 as GSM-7 text (possibly empty)."""
    latin = anyascii(char)
    return latin if is_gsm(latin) else ""


def typed(value: object, *, kept: bool = False) -> str:
    """Mark text a person typed (a name, an address, a reason) inside a message template, so
    fit() may transliterate or shorten it and nothing else. kept: shortened only after every
    other typed part is gone (the address a vendor drives to)."""
    return f"{TYPED_START}{KEPT if kept else ''}{value}{TYPED_END}"


def plain_text(body: str) -> str:
    """The message with the typed-text marks removed (calls, email, the outbox's record)."""
    return body.replace(TYPED_START, "").replace(TYPED_END, "").replace(KEPT, "")


def fit(body: str, max_segments: int = MAX_SEGMENTS, *, words_too: bool = False) -> str:
    """An SMS body in GSM-7 within max_segments: typed parts transliterated, then the longest
    typed part shortened (ending in '...') until the whole fits; the template's own words are
    never shortened, so the instructions at the end of a message survive. words_too: the
    template's words are transliterated as well (a translation's accents GSM-7 lacks)."""
    parts = _TYPED.split(body)  # even: template text, odd: typed text
    kept = {i for i in range(1, len(parts), 2) if parts[i].startswith(KEPT)}
    parts = [to_gsm(" ".join(p.replace(KEPT, "").split())) if i % 2
             else (to_gsm(p) if words_too else p) for i, p in enumerate(parts)]
    budget = (SINGLE if max_segments == 1 else PART * max_segments)
    while (over := (_septets("".join(parts)) or 0) - budget) > 0:
        # the longest typed part, a kept one only when the others are all gone
        longest = max(range(1, len(parts), 2), default=None,
                      key=lambda i: (i not in kept and bool(parts[i]), len(parts[i])))
        if longest is None or not parts[longest]:
            break  # nothing typed left to shorten: the template alone is this long
        text = parts[longest]
        keep = max(0, len(text) - over - len(ELLIPSIS))
        parts[longest] = (text[:keep].rstrip() + ELLIPSIS) if keep else ""
    return "".join(parts)
