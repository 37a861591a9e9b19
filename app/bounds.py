"""Integers that fit a 64-bit signed column, so a huge number is a 404 or 422, never a 500."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def at_most(limit: int) -> str:
    """A regex for the whole numbers 0..limit written without leading zeros."""
    digits = str(limit)
    options = ["0"]
    if len(digits) > 1:
        options.append(f"[1-9][0-9]{{0,{len(digits) - 2}}}")  # fewer digits than limit
    for at, digit in enumerate(digits):  # as many digits: a smaller digit after a common start
        lowest = 1 if at == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - at - 1
            options.append(f"{digits[:at]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class Int64Converter(IntegerConverter):
    """Flask's `<int:...>` within 64 bits: a larger number matches no route at all (a 404).

    The bound is in the regex, not only in to_python: werkzeug answers 405 when a path matches
    a rule of another method and this rule's conversion then fails.
    """

    regex = at_most(INT64_MAX)

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.min = INT64_MIN if self.min is None else max(self.min, INT64_MIN)
        self.max = INT64_MAX if self.max is None else min(self.max, INT64_MAX)


def positive_int(raw: str | None) -> int | None:
    """A whole number from 1 to INT64_MAX in ASCII digits, else None."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(INT64_MAX)):
        return None
    number = int(raw)
    return number if 1 <= number <= INT64_MAX else None
