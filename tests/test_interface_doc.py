"""docs/interface.md keeps up with the code: every setting, API route and reply word is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import config
from app.messaging import replies

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "interface.md").read_text()


def test_every_setting_the_configuration_reads_is_documented():
    source = Path(config.__file__).read_text()
    names = set(re.findall(r'(?:env\.get|seconds)\("([A-Z][A-Z0-9_]+)"', source))
    assert names, "no setting found: the pattern no longer matches app/config.py"
    assert sorted(name for name in names if f"`{name}`" not in DOC) == []


def test_every_api_route_is_documented(app):
    routes = {f"{method} " + re.sub(r"<[^>]+>", "{id}", rule.rule)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes
    assert sorted(route for route in routes if route not in DOC) == []


@pytest.mark.parametrize("words", ["ACCEPT_WORDS", "DECLINE_WORDS", "STOP_WORDS", "START_WORDS",
                                   "HELP_WORDS", "TIME_WORDS", "DONE_WORDS", "HAND_BACK_WORDS",
                                   "QUOTE_WORDS", "APPROVE_WORDS", "DENY_WORDS", "AGAIN_WORDS"])
def test_every_word_vendors_may_text_is_documented(words):
    assert sorted(w for w in getattr(replies, words) if f"`{w}`" not in DOC) == []
