"""Languages (CONTRACT §13): one gettext catalog for the texts Fixline sends and the tenant's
pages, read in the language of whoever reads them.

Messages are rendered outside requests too (workers, the sweep), so the language of the moment
is a context variable set by speaking(); in a request that set none, it is the page's (g.language,
set by use_for_page() from the tenant the page is for). The pages' templates get `_` from
Flask-Babel, whose locale is this same language, over the same compiled catalog
(app/translations/<language>/LC_MESSAGES/messages.mo, made from the .po beside it by
`make messages`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.support import LazyProxy, NullTranslations, Translations
from flask import Flask, g, has_app_context

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "messages"

_speaking: contextvars.ContextVar[str | None] = contextvars.ContextVar("language", default=None)


def known(language: str | None) -> str:
    """language when Fixline speaks it, else English."""
    return language if language in LANGUAGES else DEFAULT


@cache
def catalog(language: str) -> NullTranslations:
    """The compiled catalog of language (English is the source text: no catalog)."""
    if language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language], DOMAIN)


def current() -> str:
    """The language of the moment: speaking()'s, else the page's, else English."""
    language = _speaking.get()
    if language is None and has_app_context():
        language = g.get("language")
    return language or DEFAULT


def use_for_page(language: str | None) -> None:
    """The rest of this request (its page, its texts) is in language."""
    import flask_babel

    g.language = known(language)
    flask_babel.refresh()  # Flask-Babel keeps a request's locale once asked


def init_app(app: Flask) -> None:
    """Flask-Babel for the pages: `_` in templates, in the language of the moment."""
    import flask_babel

    flask_babel.Babel(app, locale_selector=current,
                      default_translation_directories=str(TRANSLATIONS))
    app.context_processor(lambda: {"page_language": current()})


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Render what is said inside in language (unknown or None: English)."""
    token = _speaking.set(known(language))
    try:
        yield current()
    finally:
        _speaking.reset(token)


def N_(message: str) -> str:  # noqa: N802  (gettext's own name for it)
    """Mark a constant as a message to translate (extracted by `make messages`), unchanged."""
    return message


def gettext(message: str, **values: object) -> str:
    """message in the current language, its %(name)s placeholders filled from values."""
    text = catalog(current()).gettext(message)
    return text % values if values else text


def lazy(message: str) -> LazyProxy:
    """message translated when it is shown (form labels and errors made at import time)."""
    return LazyProxy(gettext, message, enable_cache=False)


# The pages' strftime formats as Babel patterns for the other languages: day before month, a
# 24-hour clock.
PATTERNS = {"%a %b %-d, %-I:%M %p %Z": "EEE d 'de' MMM, H:mm z",
            "%a %b %-d, %-I:%M %p": "EEE d 'de' MMM, H:mm", " %Z": " z", "%Y%m%d": "yyyyMMdd",
            "%-I:%M %p %Z": "H:mm z", "%-I:%M %p": "H:mm", "%b %-d": "d 'de' MMM",
            "%a %b %-d": "EEE d 'de' MMM"}


def babel_pattern(fmt: str) -> str:
    """A strftime format of the pages as a Babel date pattern (a known one, else each field)."""
    if fmt in PATTERNS:
        return PATTERNS[fmt]
    for old, new in (("%-d", "d"), ("%-I", "H"), ("%a", "EEE"), ("%b", "MMM"), ("%d", "dd"),
                     ("%m", "MM"), ("%Y", "yyyy"), ("%M", "mm"), ("%p", ""), ("%Z", "z"),
                     ("%H", "HH")):
        fmt = fmt.replace(old, new)
    return fmt

