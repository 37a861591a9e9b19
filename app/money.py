"""Amounts of money as exact decimals: read, checked, shown; never a float in between.

An amount is a Decimal with two places, 0 to MAX. A JSON number arrives as the float the JSON
reader made of it and is read back from its shortest repr, which is the number as written for
every amount with at most 15 significant digits (the largest accepted one has 12).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX = Decimal("1000000000")
# A numeric string: digits, then a point and digits (at most 2 that are not trailing zeros).
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
PATTERN = r"^(?:0*[0-9]{1,9}(?:\.[0-9]{1,2}0*)?|0*1000000000(?:\.0+)?)$"  # NUMBER within MAX
# What a person may type on a page besides: a $ in front, thousands separated by commas.
TYPED = re.compile(r"\$?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|\$?[0-9]+(?:\.[0-9]+)?")


def parse(value: object) -> Decimal:
    """An amount from a JSON number, a numeric string ("250", "250.50") or a Decimal;
    ValueError (readable) for anything else, more than 2 decimals, or out of range."""
    if isinstance(value, bool):
        raise ValueError("must be a number, like 250 or 250.50")
    if isinstance(value, float):
        value = Decimal(repr(value))  # the shortest text that reads back as this float
    elif isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        if not NUMBER.fullmatch(value):
            raise ValueError("must be a number, like 250 or 250.50")
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise ValueError("must be a number, like 250 or 250.50") from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError("must be a number, like 250 or 250.50")
    if value < 0 or value > MAX:
        raise ValueError(f"must be between 0 and {MAX:,}")
    if value != value.quantize(CENT):
        raise ValueError("must have at most 2 decimals (cents)")
    return value.quantize(CENT)


def parse_typed(text: str) -> Decimal:
    """An amount as a person types it on a page: 250, 250.50, $1,250.50."""
    text = (text or "").strip()
    if not TYPED.fullmatch(text):
        raise ValueError("Give an amount like 250 or 1,250.50.")
    return parse(text.lstrip("$").replace(",", ""))


def exact(amount: Decimal | None) -> Decimal | None:
    """A stored amount with its two places (SQLite hands 250.5 back for 250.50)."""
    return None if amount is None else Decimal(amount).quantize(CENT)


def as_json(amount: Decimal | None) -> float | None:
    """The JSON number of an amount: its two-place value (250.50 is written 250.5)."""
    return None if amount is None else float(exact(amount))


def show(amount: Decimal | None, none: str = "no limit") -> str:
    """An amount as money: $1,250.00."""
    return none if amount is None else f"${exact(amount):,.2f}"
