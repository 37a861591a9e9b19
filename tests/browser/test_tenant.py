"""A tenant reports a problem from their private link and watches it get booked, live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    PHONE,
    UPDATE_SECONDS,
    log_in,
    png,
    same_document,
    screenshot,
)
from tests.browser.support import still_same_document as unchanged

pytestmark = pytest.mark.slow


def test_tenant_reports_with_a_photo_and_sees_the_booking_arrive(live, open_page):
    page, watch = open_page()
    page.goto(live.intake["Alice Johnson"])
    expect(page.get_by_role("heading", name="Report a problem")).to_be_visible()
    expect(page.get_by_text("123 Main Street Apt 1A")).to_be_visible()

    page.get_by_label("Plumbing").check()
    page.get_by_label("Routine").check()
    page.get_by_label("What is wrong?").fill("Water dripping from the kitchen ceiling "
                                            "under the upstairs bathroom.")
    window = page.get_by_label("When can someone come in?")
    window.fill("2020-01-01 9-10am")  # inline check, as the tenant types
    expect(page.locator("#window-msg")).to_have_text(re.compile("already passed"))
    expect(window).to_have_attribute("aria-describedby", re.compile("window-msg"))
    window.fill("any time")
    expect(page.locator("#window-msg")).to_have_text(re.compile("Any time"))
    page.get_by_label("Anything else the vendor should know?").fill(
        "Side gate code 4321. The dog is friendly.")
    page.get_by_label("Photos").set_input_files(
        [{"name": "ceiling.png", "mimeType": "image/png", "buffer": png()}])
    screenshot(page, "intake")

    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/intake/[\w-]+/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    status_url = page.url
    status = page.locator("#ticket-status")
    expect(status).to_contain_text(re.compile(r"Asking vendor 1 of 2"), timeout=UPDATE_SECONDS
                                   * 1000)
    expect(page.get_by_role("img", name="Photo 1 you sent")).to_be_visible()
    screenshot(page, "status-contacting")
    same_document(page)
    navigations = len(watch.navigations)

    ping = live.pending_ping(ticket_id)
    phones, _ = open_page()
    log_in(phones, live)  # the simulator shows the logged-in landlord's vendors only
    phones.goto(live.url("/simulator/"))
    offer = phones.locator(".offer", has_text=ping["code"])
    expect(offer).to_be_visible()
    screenshot(phones, "simulator")
    offer.get_by_role("button", name="Accept").click()
    card = phones.locator(".phone", has=phones.get_by_role("heading", name=ping["vendorName"]))
    expect(card).to_contain_text(f"You have job {ping['code']}", timeout=UPDATE_SECONDS * 1000)

    expect(status).to_contain_text(f"Booked: {ping['vendorName']}",
                                   timeout=UPDATE_SECONDS * 1000)
    expect(status).to_contain_text("Your landlord has been told")
    # Booked is not final (it can still be done or cancelled): the page now asks rarely.
    expect(status).to_have_attribute("hx-trigger", "every 30s")
    assert unchanged(page), "the status page was reloaded"
    assert len(watch.navigations) == navigations and page.url == status_url
    screenshot(page, "status")

    phone, _ = open_page(PHONE)
    phone.goto(status_url)
    expect(phone.locator("#ticket-status")).to_contain_text(f"Booked: {ping['vendorName']}")
    screenshot(phone, "status-phone")
    phone.goto(live.intake["Alice Johnson"])
    screenshot(phone, "intake-phone")


def test_the_form_works_without_javascript(live, open_page):
    page, _ = open_page(javascript=False)
    page.goto(live.intake["Bob Williams"])
    page.get_by_label("What is wrong?").fill("Bathroom light flickers")
    page.get_by_role("button", name="Send report").click()
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("What kind of problem is it?: Choose what kind of problem")
    expect(problems).to_contain_text("When can someone come in?: Tell us when")
    expect(page.get_by_label("What is wrong?")).to_have_value("Bathroom light flickers")
    problems.get_by_role("link", name="What kind of problem is it?").click()
    expect(page).to_have_url(re.compile("#category-plumbing$"))
    expect(page.get_by_label("Plumbing")).to_be_in_viewport()

    page.get_by_label("Electrical").check()
    page.get_by_label("Routine").check()
    page.get_by_label("When can someone come in?").fill("any time")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/intake/[\w-]+/tickets/\d+$"))
    expect(page.get_by_role("heading", name="Your report", exact=True)).to_be_visible()
    expect(page.locator("#ticket-status")).to_contain_text("Received")


def test_too_many_photos_are_refused_in_the_browser_before_sending(live, open_page):
    page, _ = open_page()
    page.goto(live.intake["Bob Williams"])
    photos = [{"name": f"p{n}.png", "mimeType": "image/png", "buffer": png()} for n in range(6)]
    page.get_by_label("Photos").set_input_files(photos)
    message = page.locator("#photos-msg")
    expect(message).to_have_text("Attach at most 5 photos (you chose 6).")  # at once
    expect(page.get_by_label("Photos")).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_label("Photos")).to_be_focused()  # nothing was sent
    assert page.url == live.intake["Bob Williams"]
    page.get_by_label("Photos").set_input_files(photos[:5])
    expect(message).to_have_text("")
    expect(page.get_by_label("Photos")).not_to_have_attribute("aria-invalid", "true")
