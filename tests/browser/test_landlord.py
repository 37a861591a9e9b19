"""A landlord's live dashboard, escalations on top, and a vendor added through the vendors page."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, UPDATE_SECONDS, log_in, same_document, screenshot
from tests.browser.support import still_same_document as unchanged

pytestmark = pytest.mark.slow
WAIT = UPDATE_SECONDS * 1000


def accept_in_simulator(open_page, live, ticket_id: int) -> dict:
    """The vendor holding the ticket's open offer presses Accept on their (simulated) phone."""
    deadline = time.monotonic() + UPDATE_SECONDS
    while (ping := live.pending_ping(ticket_id)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ping is not None, "nobody was offered the job"
    phones, _ = open_page()
    log_in(phones, live)  # the simulator shows the logged-in landlord's vendors only
    phones.goto(live.url("/simulator/"))
    phones.locator(".offer", has_text=ping["code"]).get_by_role("button", name="Accept").click()
    card = phones.locator(".phone", has=phones.get_by_role("heading", name=ping["vendorName"]))
    expect(card).to_contain_text(f"You have job {ping['code']}", timeout=WAIT)
    return ping


def test_a_new_ticket_arrives_on_the_dashboard_and_changes_state_in_place(live, open_page):
    page, watch = open_page()
    log_in(page, live)
    dashboard_url = page.url
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    same_document(page)
    navigations = len(watch.navigations)
    partial = []  # answers to the board's waiting request that sent the changed parts alone
    page.on("response", lambda response: partial.append(response.url)
            if "/dashboard/changes" in response.url
            and response.headers.get("hx-retarget") == "#board-feed" else None)

    ticket = live.report("Bob Williams", "electrical", description="Kitchen outlet sparks")
    link = page.locator(f"#ticket-link-{ticket['id']}")
    expect(link).to_be_visible(timeout=WAIT)
    expect(page.locator(".group-dispatching").locator(f"#ticket-link-{ticket['id']}")
           ).to_be_visible(timeout=WAIT)

    ping = accept_in_simulator(open_page, live, ticket["id"])
    expect(page.locator(".group-scheduled").locator(f"#ticket-link-{ticket['id']}")
           ).to_be_visible(timeout=WAIT)
    expect(page.locator(".group-dispatching").locator(f"#ticket-link-{ticket['id']}")
           ).to_have_count(0)
    assert unchanged(page), "the dashboard was reloaded"
    assert partial, "the board was sent whole, not the parts that changed"
    assert len(watch.navigations) == navigations and page.url == dashboard_url
    screenshot(page, "dashboard")

    phone, _ = open_page(PHONE)
    log_in(phone, live)
    screenshot(phone, "dashboard-phone")

    # Aim at the visible "#N": Playwright's default point is the link's first box, which is
    # its clipped 1px "Ticket " (screen-reader text), and the click would miss.
    box = link.bounding_box()
    link.click(position={"x": box["width"] - 4, "y": box["height"] / 2})
    page.wait_for_url(re.compile(rf"/tickets/{ticket['id']}$"))
    expect(page.get_by_role("heading", name=re.compile(rf"Ticket #{ticket['id']}"))
           ).to_be_visible()
    # The whole page was swapped, not just the polled board the link sat in.
    expect(page.locator("header.top")).to_have_count(1)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_have_count(0)
    expect(page.get_by_text(ping["vendorName"]).first).to_be_visible()
    screenshot(page, "ticket")


def test_an_escalation_appears_at_the_top(live, open_page):
    page, _ = open_page()
    log_in(page, live)
    same_document(page)
    ticket = live.report("Austin Perez", "pest", description="Mice in the pantry")  # no vendor
    row = page.locator(".group-escalated").locator(f"#ticket-link-{ticket['id']}")
    expect(row).to_be_visible(timeout=WAIT)
    groups = page.locator(".ticket-group")
    expect(groups.first).to_have_class(re.compile(r"\bgroup-escalated\b"))
    escalated_top = row.bounding_box()["y"]
    others = page.locator(".ticket-group:not(.group-escalated) .ticket-row")
    for index in range(others.count()):
        assert others.nth(index).bounding_box()["y"] > escalated_top
    assert unchanged(page)


def test_a_vendor_added_on_the_vendors_page_gets_the_next_ping(live, open_page):
    page, _ = open_page()
    log_in(page, live)
    page.get_by_role("link", name="Vendors").click()
    page.wait_for_url(re.compile(r"/vendors/$"))
    page.get_by_role("link", name="Add a vendor").click()
    page.wait_for_url(re.compile(r"/vendors/new$"))
    page.get_by_label("Name").fill("Appliance Angels")
    page.get_by_label("Phone numbers").fill("+15557654321")
    page.get_by_role("checkbox", name="Appliance").check()
    page.get_by_label("Working hours").fill("24/7")
    page.get_by_label("Priority").fill("1")
    page.get_by_role("button", name="Add vendor").click()
    page.wait_for_url(re.compile(r"/vendors/$"))
    expect(page.get_by_role("region", name="Vendors table").get_by_role(
        "rowheader", name="Appliance Angels")).to_be_visible()
    screenshot(page, "vendors")

    ticket = live.report("Alice Johnson", "appliance", description="Fridge is warm")
    phones, _ = open_page()
    log_in(phones, live)  # the simulator shows the logged-in landlord's vendors only
    phones.goto(live.url("/simulator/"))
    card = phones.locator(".phone", has=phones.get_by_role("heading", name="Appliance Angels"))
    expect(card.locator(".offer")).to_be_visible(timeout=WAIT)
    expect(card).to_contain_text("Fixline job")
    ping = live.pending_ping(ticket["id"])
    assert ping["vendorName"] == "Appliance Angels"
    expect(card.locator(".offer")).to_contain_text(ping["code"])
