"""Phone numbers: the one parser every form, API field and CLI option uses (E.164 out)."""

from __future__ import annotations

import re

import phonenumbers
from flask import current_app, has_app_context
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers import ValidationResult as Why

DEFAULT_REGION = "US"
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)  # ISO 3166 codes libphonenumber knows
MAX_LENGTH = 32

# Whitespace as Python reads it (str.strip, re's \s), spelled out: patterns built on it go into
# the OpenAPI document, where \s would mean ECMAScript's slightly different set.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SEPARATORS = rf"[{SPACE}().-]"
# The first check, and all the OpenAPI document can state: + and 7-15 digits (the first not 0),
# or 7-17 digits without + (a national number with its trunk 0, or an international prefix),
# with spaces, dots, dashes and parentheses between them. Letters, extensions and other
# scripts' digits never reach libphonenumber (which would read 1-800-FLOWERS or "x2").
PATTERN = (rf"^{SEPARATORS}*(?:\+{SEPARATORS}*[1-9](?:{SEPARATORS}*[0-9]){{6,14}}"
           rf"|[0-9](?:{SEPARATORS}*[0-9]){{6,16}}){SEPARATORS}*$")

# CONTRACT.md §4's demo numbers: +1 and 9 digits, one short of a North American number, so
# libphonenumber calls them too short. They are accepted exactly as the contract writes them,
# so the demo landlord can edit the seeded vendors and tenants and address them by API.
DEMO_NUMBERS = frozenset(f"+123456789{n}" for n in range(8))


def configured_region() -> str:
    """DEFAULT_PHONE_REGION of the running app; US outside an app (scripts, unit tests)."""
    if has_app_context():
        config = current_app.extensions.get("fixline")
        if config is not None:
            return config.default_phone_region
    return DEFAULT_REGION


def example(region: str, international: bool = False) -> str:
    """A number of region as people write it, for hints: (201) 555-0123 or +1 201-555-0123."""
    number = phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
    style = PhoneNumberFormat.INTERNATIONAL if international else PhoneNumberFormat.NATIONAL
    return phonenumbers.format_number(number, style) if number else "+13145550100"


def _where(number: phonenumbers.PhoneNumber) -> str:
    region = phonenumbers.region_code_for_country_code(number.country_code)
    known = "" if region in ("ZZ", "001") else f" ({region})"
    return f"a +{number.country_code}{known} number"


def parse(text: str, region: str | None = None) -> str:
    """The number text means, in E.164 (+ and digits); ValueError says why it is none.

    A number without + is read as one of region (default: configured_region()). It is
    accepted when libphonenumber finds its length possible for its country
    (is_possible_number), not only when it is in a range that country has allocated
    (is_valid_number): the fictional 555-01xx numbers that examples and tests use are
    invalid for the US, and a real number from a newly opened range would be refused until
    the metadata caught up. CONTRACT.md §4's demo numbers are accepted as written
    (DEMO_NUMBERS). A local number without its area code is refused, never guessed at.
    """
    region = region or configured_region()
    hint = example(region)
    text = text if isinstance(text, str) else ""
    if not text.strip():
        raise ValueError("give a phone number")
    if len(text) > MAX_LENGTH or not re.match(PATTERN, text):
        raise ValueError(f"{text.strip()!r} is not a phone number: use digits (spaces, dots, "
                         f"dashes and parentheses are fine), like {hint} or +13145550100")
    digits = re.sub(SEPARATORS, "", text)
    if digits in DEMO_NUMBERS:
        return digits
    try:
        number = phonenumbers.parse(digits, region)
    except NumberParseException:
        raise ValueError(f"{digits} is not a phone number: no country has the calling code "
                         f"it starts with") from None
    why = phonenumbers.is_possible_number_with_reason(number)
    if why == Why.IS_POSSIBLE:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    written = text.strip()
    if why == Why.INVALID_COUNTRY_CODE:
        raise ValueError(f"{written} is not a phone number: no country has the calling code "
                         f"it starts with")
    if why == Why.IS_POSSIBLE_LOCAL_ONLY:
        raise ValueError(f"{written} is too short: it is a local number without its area code; "
                         f"give it with its area code, like {hint}")
    length = {Why.TOO_SHORT: "too short", Why.TOO_LONG: "too long"}.get(why, "the wrong length")
    advice = "with its area code" if why == Why.TOO_SHORT else "with the right number of digits"
    if digits.startswith("+"):
        there = phonenumbers.region_code_for_country_code(number.country_code)
        like = example(there, international=True) if there in REGIONS else "+13145550100"
    else:
        like = f"{hint} (from another country: + and its country code)"
    raise ValueError(f"{written} is {length} for {_where(number)}: give the whole number "
                     f"{advice}, like {like}")
