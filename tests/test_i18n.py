"""The message catalog (CONTRACT §13): every English text tenants and vendors read has its
Spanish, with the same placeholders; the catalog matches the code and its compiled form; every
template renders in both languages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app import i18n
from app.messaging import gsm, templates
from tests.test_gsm import MESSAGES, renderings

ROOT = Path(__file__).resolve().parent.parent
POT = i18n.TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
OTHER_LANGUAGES = sorted(set(i18n.LANGUAGES) - {i18n.DEFAULT})


def entries(path: Path, language: str | None = None) -> dict[str, tuple[str, ...]]:
    """msgid (a plural's singular) → its forms: (msgid,) or (singular, plural) in a template,
    the translations in a catalog."""
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    return {forms(m.id)[0]: forms(m.string if language else m.id)
            for m in catalog if m.id}  # iterating skips obsolete entries


def forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(texts: tuple[str, ...]) -> set[str]:
    return {name for text in texts for name in PLACEHOLDER.findall(text)} - {"num"}


def test_the_template_matches_the_code(tmp_path):
    """`make messages` was run after the last text changed: extracting again adds nothing."""
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "lazy", "--no-location", "--omit-header", "-o", str(fresh), "."],
                   cwd=ROOT, check=True, capture_output=True)
    assert set(entries(fresh)) == set(entries(POT))


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(language):
    source = entries(POT)
    po = i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    translated = entries(po, language)
    assert set(translated) == set(source), "run `make messages` and translate what is new"
    for msgid, msgstr in translated.items():
        assert all(msgstr), f"{language}: no translation of {msgid!r}"
        for form in msgstr:
            assert placeholders((form,)) == placeholders(source[msgid]), (msgid, form)
    with po.open("rb") as f:
        assert not any("fuzzy" in m.flags for m in read_po(f) if m.id)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_compiled_catalog_matches_its_source(language):
    folder = i18n.TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as f:
        compiled = {forms(m.id)[0]: forms(m.string) for m in read_mo(f) if m.id}
    assert compiled == entries(folder / "messages.po", language), "run `make messages`"


def tenants_and_vendors() -> list[str]:
    return [name for name in MESSAGES if name not in templates.TO_LANDLORDS]


@pytest.mark.parametrize("name", tenants_and_vendors())
def test_every_text_to_tenants_and_vendors_renders_in_spanish(name):
    english = list(renderings(name, benign=True))
    spanish = [body for _, body in renderings(name, benign=True, lang="es")]
    for (args, en), es in zip(english, spanish, strict=True):
        if args.get("role") in ("landlord", "unknown"):
            assert es == en  # help, stop and start texts to landlords and strangers
            continue
        assert es != en and "%(" not in es, (en, es)
        if name not in templates.SPOKEN:
            assert gsm.is_gsm(es), es


@pytest.mark.parametrize("name", sorted(templates.TO_LANDLORDS))
def test_landlords_read_english_whatever_the_language_of_the_moment(name):
    with i18n.speaking("es"):
        spanish_moment = [body for _, body in renderings(name, benign=True, lang="es")]
    assert spanish_moment == [body for _, body in renderings(name, benign=True)]


def test_spanish_words_keep_what_gsm7_has_and_lose_what_it_lacks():
    ticket = __import__("tests.test_gsm", fromlist=["hostile_objects"]).hostile_objects(True)
    body = templates.reply_reopened(ticket["vendor"], lang="es")
    assert body.startswith("Lamentamos que no esté arreglado")  # é is GSM-7
    body = templates.reply_visit_confirmed(ticket["appointment"], lang="es")
    assert body.endswith("esta confirmada.")  # está: á is not
    assert "¿" in templates.did_they_come(ticket["vendor"], lang="es")  # ¿ is


def test_unknown_languages_are_english():
    with i18n.speaking("fr"):
        assert i18n.current() == "en"
    assert templates.reply_unknown(lang=None) == templates.reply_unknown(lang="en")
