"""Reading what a re-rendered form says about its fields."""

from __future__ import annotations

import re
from html import unescape


def error_of(html: str, field: str) -> str:
    """The error text the page shows under one field (the test fails when there is none)."""
    found = re.search(rf'<span class="error" id="{field}-error"[^>]*>(.*?)</span>', html, re.S)
    assert found, f"no error element for {field}"
    return unescape(found.group(1))
