"""In Chromium, markup typed into any text field shows as text: no alert ever fires.

The fields are filled the way users fill them (the tenant's form in the browser, the rest
through the API), then every page that shows them is opened and left to poll for a while. The
`open_page` fixture fails the test on any dialog, any CSP refusal and any JavaScript error.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import UPDATE_SECONDS, log_in

pytestmark = pytest.mark.slow
SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
POLL_SECONDS = {"": 1.2, "/tickets/": 3.2}  # time for each page's polling region to swap


def payload(field: str) -> str:
    return f"{field} {SCRIPT} {IMAGE}"


def test_no_script_runs_on_any_page_that_shows_user_text(live, open_page):
    prop = live.api("POST", "/properties", json={"address": payload("address")})
    tenant = live.api("POST", "/tenants", json={
        "name": payload("tenant"), "phone": "+15551119999", "propertyId": prop["id"]})
    vendor = live.api("POST", "/vendors", json={
        "name": payload("vendor"), "phones": ["+15552228888"], "specialties": ["general"],
        "hours": "24/7", "priority": 1, "notes": payload("vendor notes")})

    page, watch = open_page()
    page.goto(tenant["intakeUrl"])
    expect(page.get_by_text(payload("tenant"), exact=False)).to_have_count(1)
    page.get_by_label("Something else").check()
    page.get_by_label("Routine").check()
    page.get_by_label("What is wrong?").fill(payload("description"))
    page.get_by_label("When can someone come in?").fill(payload("window"))
    expect(page.locator("#window-msg")).to_contain_text("as you wrote it")
    page.get_by_label("Anything else the vendor should know?").fill(payload("notes"))
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#ticket-status")).to_contain_text("Asking vendor 1 of 1",
                                                           timeout=UPDATE_SECONDS * 1000)
    for field in ("description", "window", "notes"):
        expect(page.get_by_text(payload(field))).to_be_visible()  # shown as text
    page.wait_for_timeout(2200)  # the status page asks every 2 s

    landlord, seen = open_page()
    log_in(landlord, live)
    pages = {
        "/dashboard": ["address", "tenant"],
        f"/tickets/{ticket_id}": ["description", "notes", "window", "vendor"],
        "/vendors/": ["vendor"],
        f"/vendors/{vendor['id']}/edit": [],
        "/tenants/": ["tenant"],
        f"/tenants/{tenant['id']}/edit": [],
        "/properties/": ["address"],
        f"/properties/{prop['id']}/edit": [],
        "/messages/": ["window"],
        "/simulator/": ["vendor", "window"],
    }
    for path, fields in pages.items():
        landlord.goto(live.url(path))
        for field in fields:
            expect(landlord.get_by_text(payload(field)).filter(visible=True).first
                   ).to_be_visible()
        if path.startswith("/vendors/") and path.endswith("/edit"):
            expect(landlord.get_by_label("Notes")).to_have_value(payload("vendor notes"))
        landlord.wait_for_timeout(1000 * max(seconds for prefix, seconds in POLL_SECONDS.items()
                                             if path.startswith(prefix)))
    for who in (watch, seen):
        who.assert_clean()
    assert watch.dialogs == seen.dialogs == []
