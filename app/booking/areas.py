"""A vendor's service areas: postal-code prefixes as written, checked and normalized."""

from __future__ import annotations

import re

MAX_AREAS = 50
MAX_LENGTH = 10
# Letters, digits, spaces and hyphens, with some letter or digit (before trimming: JSON Schema).
PATTERN = r"^[A-Za-z0-9 -]*[A-Za-z0-9][A-Za-z0-9 -]*$"
HINT = "postal-code prefixes like 631 or SW1A: letters, digits, spaces and hyphens, up to 10 each"


def normalize(prefix: str) -> str:
    """One prefix as stored: trimmed, upper case; ValueError says what is wrong."""
    if len(prefix) > MAX_LENGTH or not re.search(PATTERN, prefix):  # as JSON Schema reads it
        raise ValueError(f"{prefix.strip()[:20]!r} is not a postal-code prefix ({HINT})")
    return prefix.strip().upper()


def dedupe(prefixes: list[str]) -> list[str]:
    """Normalized prefixes without repeats, in the order given."""
    return list(dict.fromkeys(prefixes))


def parse(values: list[str]) -> list[str]:
    """Prefixes as stored: each normalized, repeats dropped, at most MAX_AREAS ([]: anywhere)."""
    if len(values) > MAX_AREAS:
        raise ValueError(f"at most {MAX_AREAS} service areas")
    return dedupe([normalize(value) for value in values])


def split(text: str) -> list[str]:
    """The prefixes in a comma-separated list as typed on a page (blank entries ignored)."""
    return [part.strip() for part in re.split(r"[,;\n]+", text or "") if part.strip()]
