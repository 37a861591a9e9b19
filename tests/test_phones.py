"""Phone numbers: app.phones.parse, DEFAULT_PHONE_REGION, and the CLI's --phone."""

from __future__ import annotations

import re

import pytest

from app import phones
from app.config import Config, ConfigError
from app.db import db
from app.models import Landlord
from app.seed import PROPERTIES, VENDORS

ACCEPTED = [
    # (as typed, region, E.164)
    ("+1 (555) 010-1234", "US", "+15550101234"),
    ("555-010-1234", "US", "+15550101234"),  # fictional 555-01xx: possible, not "valid"
    ("(314) 560-6377", "US", "+13145606377"),
    ("314.555.0100", "US", "+13145550100"),
    ("1 314 555 0199", "US", "+13145550199"),  # with the trunk 1
    ("15550007777", "US", "+15550007777"),
    (" +44 20 7946 0958 ", "US", "+442079460958"),  # a + number is read the same anywhere
    ("011 44 20 7946 0958", "US", "+442079460958"),  # dialled from the US
    ("020 7946 0018", "GB", "+442079460018"),
    ("00 44 20 7946 0018", "GB", "+442079460018"),  # dialled from the UK
    ("+1 314 555 0100", "GB", "+13145550100"),
    ("(11) 2345-6789", "BR", "+551123456789"),
    ("1\u001c3145550100", "US", "+13145550100"),  # a separator Python counts as whitespace
    ("+1234567893", "US", "+1234567893"),  # CONTRACT.md §4's demo numbers, as written
    ("+1 (234) 567-890", "US", "+1234567890"),
]

REFUSED = [
    # (as typed, region, words the message must contain)
    ("555-1234", "US", "too short"),  # was stored as +5551234, in Brazil
    ("555-1234", "US", "area code"),
    ("+5551234", "US", "too short for a +55 (BR) number"),
    ("314 555 010", "US", "too short for a +1 (US) number"),
    ("+1234567", "US", "too short"),
    ("+123456789012345", "US", "too long for a +1 (US) number"),
    ("+4420794600181", "US", "too long for a +44 (GB) number"),
    ("+99912345678", "US", "no country has the calling code"),
    ("1-800-FLOWERS", "US", "is not a phone number"),  # no letters, however dialable
    ("call me", "US", "'call me' is not a phone number"),
    ("+1 314 555 0100 x2", "US", "is not a phone number"),  # no extensions
    ("\u0663\u0661\u0664\u0665\u0665\u0665\u0660\u0661\u0660\u0660", "US", "not a phone number"),
    ("+0123456789", "US", "not a phone number"),
    ("12", "US", "not a phone number"),
    ("", "US", "give a phone number"),
    ("020 7946 0018", "US", "too long for a +1 (US) number"),  # a UK number read as American
    ("234567893", "US", "too short"),  # a demo number is accepted only as the contract writes it
    ("+1" + " " * 31 + "3145550", "US", "not a phone number"),  # longer than 32 characters
]


@pytest.mark.parametrize(("text", "region", "e164"), ACCEPTED)
def test_accepted_numbers_are_stored_in_e164(text, region, e164):
    assert phones.parse(text, region) == e164


@pytest.mark.parametrize(("text", "region", "words"), REFUSED)
def test_refused_numbers_say_why(text, region, words):
    with pytest.raises(ValueError) as refused:
        phones.parse(text, region)
    assert words in str(refused.value)


def test_the_pattern_is_a_precheck_of_the_parser():
    """Anything the OpenAPI pattern refuses, the parser refuses too."""
    for text, _region, _e164 in ACCEPTED:
        assert re.search(phones.PATTERN, text), text
    for text in ("call me", "1-800-FLOWERS", "+1 314 555 0100 x2", "+0123456789", "12"):
        assert not re.search(phones.PATTERN, text)


def test_a_local_number_asks_for_the_area_code_with_an_example():
    with pytest.raises(ValueError, match=r"area code.*\(201\) 555-0123"):
        phones.parse("555-1234", "US")
    with pytest.raises(ValueError, match="0121 234 5678"):
        phones.parse("7946 0018", "GB")


def test_every_number_of_the_demo_data_parses_to_itself():
    numbers = ["+1234567890"] + [p[2] for p in PROPERTIES] + [v[1] for v in VENDORS]
    assert len(numbers) == 9
    for number in numbers:
        assert phones.parse(number, "US") == number
        assert phones.parse(number, "GB") == number


def test_outside_an_app_the_region_is_us():
    assert phones.configured_region() == "US"
    assert phones.parse("(314) 555-0100") == "+13145550100"


def test_default_phone_region_is_us_and_configurable(tmp_path):
    base = {"FIXLINE_INSTANCE_PATH": str(tmp_path)}
    assert Config.from_env(base).default_phone_region == "US"
    assert Config.from_env({**base, "DEFAULT_PHONE_REGION": "GB"}).default_phone_region == "GB"
    assert Config.from_env({**base, "DEFAULT_PHONE_REGION": " gb "}).default_phone_region == "GB"


@pytest.mark.parametrize("region", ["XX", "UK", "001", "USA", "+1"])
def test_an_unknown_default_phone_region_stops_start_up_naming_it(tmp_path, region):
    with pytest.raises(ConfigError, match=rf"DEFAULT_PHONE_REGION.*{re.escape(repr(region))}"):
        Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path), "DEFAULT_PHONE_REGION": region})


@pytest.mark.parametrize(("phone", "words"), [
    ("555-1234", "too short"), ("call me", "not a phone number"),
    ("+5551234", "+55 (BR)"),
])
def test_cli_landlord_create_refuses_a_bad_phone(runner, phone, words):
    result = runner.invoke(args=["landlord", "create", "--name", "Ann", "--email",
                                 "ann@example.com", "--phone", phone])
    assert result.exit_code != 0
    assert "--phone" in result.output and words in result.output
    with db.connection_context():
        assert not Landlord.select().where(Landlord.email == "ann@example.com").exists()


def test_cli_landlord_create_reads_a_national_number_in_the_configured_region(runner, app,
                                                                              monkeypatch):
    from dataclasses import replace

    monkeypatch.setitem(app.extensions, "fixline",
                        replace(app.extensions["fixline"], default_phone_region="GB"))
    result = runner.invoke(args=["landlord", "create", "--name", "Ann", "--email",
                                 "ann@example.com", "--phone", "020 7946 0018"])
    assert result.exit_code == 0, result.output
    with db.connection_context():
        assert Landlord.get(Landlord.email == "ann@example.com").phone == "+442079460018"
