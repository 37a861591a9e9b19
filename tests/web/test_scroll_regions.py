"""Every table that may scroll sideways sits in a region a keyboard can focus and scroll, with a
name (axe-core's scrollable-region-focusable; tests/browser/test_landlord_phone.py measures it)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("path", ["/vendors/", "/properties/", "/tenants/", "/messages/"])
def test_scrolling_tables_are_focusable_named_regions(landlord_client, seeded, path):
    html = landlord_client.get(path).get_data(as_text=True)
    scrollers = re.findall(r'<div class="scroll"[^>]*>', html)
    assert scrollers, f"{path} has no scrolling table"
    for tag in scrollers:
        assert 'tabindex="0"' in tag and 'role="region"' in tag, tag
        assert re.search(r'aria-label="[^"]+"', tag), tag
