"""The landlord's pages on a phone (compact navigation, actions first, focusable scrolling
tables) and the vendor phone simulator keeping focus and typed text while it refreshes."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, UPDATE_SECONDS, log_in, same_document
from tests.browser.support import still_same_document as unchanged

pytestmark = pytest.mark.slow
WAIT = UPDATE_SECONDS * 1000
NAV_MAX_HEIGHT = 60  # px, at 390 px wide

# axe-core's scrollable-region-focusable, checked directly (axe is not a dependency): every
# element that scrolls must be focusable itself or hold something focusable; ours also need a
# name, so a screen reader says what the focused region is.
SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(el => {
    const style = getComputedStyle(el);
    const scrolls = (v) => v === 'auto' || v === 'scroll';
    return (scrolls(style.overflowX) && el.scrollWidth > el.clientWidth)
        || (scrolls(style.overflowY) && el.scrollHeight > el.clientHeight);
}).map(el => ({
    what: el.outerHTML.slice(0, 80),
    focusable: el.tabIndex >= 0
        || !!el.querySelector('a[href], button, input, select, textarea, [tabindex]'),
    named: !!(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')),
    table: !!el.querySelector('table'),
}))"""


def test_on_a_phone_the_nav_is_one_short_row_actions_come_first_and_tables_scroll_by_keyboard(
        live, open_page):
    ticket = live.report("Alice Johnson", "plumbing", description="Drip under the sink")
    page, _ = open_page(PHONE)
    log_in(page, live)
    height = page.locator("header.top").bounding_box()["height"]
    assert height <= NAV_MAX_HEIGHT, f"the navigation is {height} px tall on a phone"
    expect(page.get_by_role("link", name="Messages")).to_be_attached()

    deadline = time.monotonic() + UPDATE_SECONDS
    while (ping := live.pending_ping(ticket["id"])) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ping is not None, "nobody was offered the job"
    page.goto(live.url(f"/tickets/{ticket['id']}"))
    # The offer's SMS is listed with the vendor's name beside the number.
    expect(page.get_by_role("cell", name=f"{ping['vendorName']} vendor ·", exact=False).first
           ).to_be_visible()
    actions = page.get_by_role("heading", name="Actions").bounding_box()["y"]
    assert actions < page.get_by_role("heading", name="Details").bounding_box()["y"]

    found = page.evaluate(SCROLLERS)
    tables = [s for s in found if s["table"]]
    assert tables, "no table scrolls sideways at 390 px: nothing was checked"
    assert [s["what"] for s in found if not s["focusable"]] == []
    assert [s["what"] for s in tables if not s["named"]] == []
    region = page.get_by_role("region", name="Messages table")
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    region.focus()
    expect(region).to_be_focused()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle(), timeout=3000)

    # Nothing in the wide tables (the visually hidden labels of their links included) makes a
    # page itself wider than the phone: they scroll inside their own regions. A page not
    # found is one of Fixline's too. The vendor phones wrap a long link inside its message.
    live.api("POST", "/notify", json={"recipient": {"type": "vendor", "id": ping["vendorId"]},
                                      "message": "Photos: " + live.url("/jobs/" + "x" * 40)})
    for path in ("/", "/vendors/", "/properties/", "/tenants/", "/messages/", "/simulator/",
                 "/nowhere"):
        page.goto(live.url(path))
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{path} is {wide} px wide on a {PHONE['width']} px phone"


def test_the_simulator_keeps_focus_and_typed_text_while_a_phone_refreshes(live, open_page):
    vendor = next(v for v in live.api("GET", "/vendors") if v["name"] == "Acme Plumbing")
    page, _ = open_page()
    log_in(page, live)
    page.goto(live.url("/simulator/"))
    same_document(page)
    card = page.locator(".phone", has=page.get_by_role("heading", name="Acme Plumbing"))
    field = card.get_by_label("Text Fixline")
    field.fill("HELP me with K7")
    page.wait_for_timeout(2500)  # a few of the page's 1 s polls go by
    expect(field).to_be_focused()
    expect(field).to_have_value("HELP me with K7")

    live.api("POST", "/notify", json={"recipient": {"type": "vendor", "id": vendor["id"]},
                                      "message": "Gate code is 4321"})
    expect(card.locator(".inbox")).to_contain_text("Gate code is 4321", timeout=WAIT)
    expect(field).to_be_focused()
    expect(field).to_have_value("HELP me with K7")
    assert unchanged(page)
