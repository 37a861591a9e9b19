"""GSM-7 (CONTRACT §13): segment counts, transliteration, and every message template rendered
with hostile typed values stays in the GSM-7 alphabet and within two segments."""

from __future__ import annotations

import inspect
import itertools
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.i18n import LANGUAGES as LANGUAGE_NAMES
from app.messaging import gsm, templates

HOSTILE_NAME = "“Zoë’s” Plumbing & Sons — 北京 🚰 Ltd. " * 4  # quotes, dashes, CJK, emoji
HOSTILE_ADDRESS = "١٢ Straße Élysée, Apt №5 ½ — near the café ☕, São Paulo " * 5
HOSTILE_WINDOW = "tomorrow 9–11am (ring twice “loudly”) " * 6
HOSTILE_REASON = "Tenant said: «no longer needed» — sorry!! 😢 " * 8


def hostile_objects(benign: bool = False):
    """Stand-ins for the rows templates read, with the longest, least GSM-7 typed values."""
    name, address, window, reason = ((("Ann", "12 Elm St", "tomorrow 9-11am", "not needed"))
                                     if benign else (HOSTILE_NAME, HOSTILE_ADDRESS,
                                                     HOSTILE_WINDOW, HOSTILE_REASON))
    landlord = SimpleNamespace(name=name, phone="+15550001111")
    tenant = SimpleNamespace(name=name, phone="+15550002222")
    prop = SimpleNamespace(address=address, timezone="America/Chicago")
    ticket = SimpleNamespace(id=123456, category="electrical", severity="emergency",
                             window=window, property=prop, tenant=tenant, landlord=landlord)
    vendor = SimpleNamespace(name=name, phone="+15550003333")
    appointment = SimpleNamespace(starts_at=datetime(2026, 3, 4, 20), ends_at=datetime(
        2026, 3, 4, 22), ticket=ticket, vendor=vendor)
    ping = SimpleNamespace(code="K7Q2", vendor=vendor, ticket=ticket, ticket_id=ticket.id)
    quote = SimpleNamespace(id=98765, amount=Decimal("123456.78"), status="pending",
                            approval_limit=Decimal("99999.99"), decided_by="landlord:1")
    digest = SimpleNamespace(reported=12, booked=10, escalated_open=3, quotes_waiting=2,
                             visits_today=7)
    return dict(digest=digest, ticket=ticket, vendor=vendor, appointment=appointment, ping=ping,
                quote=quote,
                landlord=landlord, newer=quote, reason=reason, booked_by=name,
                code="K7Q2", link="https://fixline.example.com/tickets/123456",
                number="123456", ticket_id=123456, days=30, expires=date(2026, 4, 1),
                rating=5, approved=True, problem="Sorry, we could not read that time.",
                by_vendor=True)


VARIANTS = {"by": ("tenant", "landlord", "vendor"), "kind": ("confirm", "came", "rate"),
            "outcome": ("approved", "denied", "already"),
            "role": ("vendor", "tenant", "landlord", "unknown"), "approved": (True, False),
            "by_vendor": (True, False)}
MESSAGES = sorted(name for name, fn in vars(templates).items()
                  if callable(fn) and hasattr(fn, "__wrapped__")
                  and fn.__module__ == templates.__name__)
LANGUAGES = sorted(LANGUAGE_NAMES)


def renderings(name: str, benign: bool = False, lang: str = "en"):
    """Every rendering of one template: each variant of its choice parameters."""
    fn = getattr(templates, name)
    signature = inspect.signature(fn.__wrapped__).parameters
    params = list(signature)
    values = hostile_objects(benign)
    optional = {p for p, spec in signature.items() if "None" in str(spec.annotation)}
    choices = [VARIANTS[p] if p in VARIANTS else
               (values[p], None) if p in optional else (values[p],) for p in params]
    for combo in itertools.product(*choices):
        args = dict(zip(params, combo, strict=True))
        yield args, fn(**args, lang=lang)


def test_every_template_is_rendered():
    assert len(MESSAGES) > 70 and "vendor_offer" in MESSAGES and "reply_help" in MESSAGES


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", MESSAGES)
def test_every_template_with_hostile_values_is_gsm7_within_two_segments(name, lang):
    for args, body in renderings(name, lang=lang):
        assert gsm.TYPED_START not in body and gsm.TYPED_END not in body
        if name in templates.SPOKEN:
            continue  # read out on a call: no alphabet, no segments
        assert gsm.is_gsm(body), (args, body)
        assert gsm.segments(body) <= 2, (len(body), body)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", MESSAGES)
def test_the_templates_own_words_survive_fitting(name, lang):
    """Only typed text is shortened: the instructions at the end of a message are kept."""
    benign, hostile = renderings(name, benign=True, lang=lang), renderings(name, lang=lang)
    for (_, plain_body), (_, fitted) in zip(benign, hostile, strict=True):
        tail = plain_body[-12:]
        ends = [plain_body.rfind(v) + len(v) for v in ("Ann", "12 Elm St", "tomorrow 9-11am",
                                                       "not needed") if v in plain_body]
        if any(end > len(plain_body) - len(tail) for end in ends):
            continue  # the message ends with typed text
        assert fitted.endswith(tail), (plain_body, fitted)


def test_english_templates_with_plain_values_are_unchanged():
    body = templates.vendor_offer(hostile_objects(benign=True)["ticket"], "K7Q2",
                                  "https://x.example/j/t")
    assert body == ("Fixline job K7Q2: electrical (emergency) at 12 Elm St, tenant available "
                    "tomorrow 9-11am. Reply YES K7Q2 to take it or NO K7Q2 to pass. Details: "
                    "https://x.example/j/t")


@pytest.mark.parametrize("text, count", [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("€" * 80, 1), ("€" * 81, 2),  # an escaped character costs two septets
    ("é" * 160, 1),  # in the GSM-7 basic set
    ("á" * 70, 1), ("á" * 71, 2), ("á" * 134, 2), ("á" * 135, 3),  # UCS-2: 70, then 67 a part
    ("🚰" * 35, 1), ("🚰" * 36, 2),  # two UTF-16 units each
])
def test_segments(text, count):
    assert gsm.segments(text) == count


def test_transliteration_keeps_what_gsm7_has():
    assert gsm.to_gsm("“Zoë” – José Ñandú, 5 €") == '"Zoe" - José Ñandu, 5 €'
    assert gsm.to_gsm("北京 ½") == "BeiJing 1/2"
    assert gsm.is_gsm(gsm.to_gsm(HOSTILE_ADDRESS + HOSTILE_REASON))


def test_fit_shortens_the_longest_typed_part_and_keeps_the_rest():
    body = f"Hi {gsm.typed('x' * 400)}, reply YES {gsm.typed('short')} now."
    fitted = gsm.fit(body)
    assert fitted.endswith(", reply YES short now.") and "..." in fitted
    assert gsm.segments(fitted) == 2 and len(fitted) <= 2 * gsm.PART


def test_fit_cuts_a_kept_part_only_when_nothing_else_is_left():
    address = gsm.typed("7304 Lindell Blvd Unit 1B", kept=True)
    body = f"Job at {address}. Tenant {gsm.typed('Austin Perez')}, {gsm.typed('w' * 300)}."
    fitted = gsm.fit(body)
    assert "Job at 7304 Lindell Blvd Unit 1B. Tenant Austin Perez, www" in fitted
    assert gsm.segments(fitted) == 2 and "\ue002" not in fitted
    assert gsm.plain_text(body).startswith("Job at 7304 Lindell Blvd Unit 1B.")
    alone = gsm.fit(f"At {gsm.typed('x' * 400, kept=True)}.")  # nothing else to cut
    assert alone.endswith("....") and gsm.segments(alone) == 2


def test_a_vendors_booking_text_keeps_the_address_whole():
    """A window just long enough to push the text past two segments is what gets cut, not
    the address ("at 7304 Linde..." in a vendor's booking SMS, found on make run)."""
    objects = hostile_objects(benign=True)
    objects["ticket"].property.address = "7304 Lindell Blvd Unit 1B"
    objects["ticket"].window = "now, I am home all day"  # shorter than the address
    whole = len(templates.reply_booked(objects["ping"], None, "L"))
    link = "https://fixline.example.com/j/".ljust(2 * gsm.PART - whole + 1 + 10, "t")
    body = templates.reply_booked(objects["ping"], None, link)  # 10 characters too long
    assert "at 7304 Lindell Blvd Unit 1B." in body and gsm.segments(body) <= 2, body
    assert "..." in body  # the window was the part shortened


def test_the_fast_count_agrees_with_the_codec_on_every_character():
    """gsm._septets scans with a regex instead of encoding; the gsm0338 codec is the truth."""
    import codecs

    for code in range(0x20000):
        if 0xD800 <= code < 0xE000:  # surrogates: no text holds them alone
            continue
        char = chr(code)
        try:
            expected = len(codecs.encode(char, gsm.CODEC))
        except UnicodeEncodeError:
            expected = None
        assert gsm._septets(char) == expected, hex(code)
    sample = "Fixline: €5 {a} [b] ~c^ |d\\ é ñ ¿¡ \f"
    assert gsm._septets(sample) == len(codecs.encode(sample, gsm.CODEC))
