"""The visit in Chromium: the vendor's job page at phone size (accept with a time, move it,
done with a photo) and the tenant's Confirm button on their status page."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.browser.support import PHONE, UPDATE_SECONDS, Live, png, screenshot

JOB_LINK = re.compile(r"Details: (http://\S+/j/[\w-]+)")


def offer_link(live: Live, ticket_id: int) -> tuple[str, dict]:
    """The job page link of the ticket's pending offer, read from the SMS Fixline sent."""
    deadline = time.monotonic() + UPDATE_SECONDS
    while time.monotonic() < deadline:
        ping = live.pending_ping(ticket_id)
        if ping is not None:
            for message in live.api("GET", f"/messages?ticketId={ticket_id}"):
                found = JOB_LINK.search(message["body"])
                if found and f"job {ping['code']}" in message["body"]:
                    return found[1], ping
        time.sleep(0.2)
    raise AssertionError(f"no offer with a job link for ticket {ticket_id}")


def fits_the_phone(page) -> None:
    """Nothing sticks out sideways at phone width (no horizontal scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_a_vendor_takes_times_and_finishes_a_job_on_the_phone(live, open_page):
    ticket = live.report("Alice Johnson", "plumbing", window="tomorrow 10am-4pm",
                         description="Kitchen sink drains slowly.")
    link, ping = offer_link(live, ticket["id"])
    page, _ = open_page(PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", name="Can you take it?")).to_be_visible()
    expect(page.get_by_text("Kitchen sink drains slowly.")).to_be_visible()
    expect(page.get_by_text("Apt 1A")).to_have_count(0)  # no unit before the job is theirs
    expect(page.get_by_text("Alice Johnson")).to_have_count(0)
    fits_the_phone(page)
    screenshot(page, "job-offer-phone")

    choice = page.get_by_label("When will you come? (optional)")
    options = choice.locator("option").all_inner_texts()
    assert len(options) > 1, options  # start times inside the tenant's window
    choice.select_option(index=2)
    page.get_by_role("button", name="Accept the job").click()
    expect(page.get_by_text(f"You have job {ping['code']}")).to_be_visible()
    expect(page.get_by_text("Apt 1A").first).to_be_visible()
    expect(page.get_by_role("link", name="Call Alice Johnson")).to_be_visible()
    visit = live.api("GET", f"/tickets/{ticket['id']}")["appointments"][0]
    assert visit["status"] == "tentative" and visit["startsAt"] is not None
    assert visit["confirmationMethod"] == "web"
    fits_the_phone(page)
    screenshot(page, "job-held-phone")

    page.get_by_label("Or type a time").fill("gibberish o'clock")
    page.get_by_role("button", name="Set the visit time").click()
    expect(page.get_by_text(re.compile("for example")).first).to_be_visible()
    page.get_by_label("Or type a time").fill("tomorrow 2pm")
    page.get_by_role("button", name="Set the visit time").click()
    expect(page.get_by_role("heading", name=re.compile(r"Visit .*2 PM"))).to_be_visible()

    page.get_by_label("Photos of the finished job (optional)").set_input_files(
        [{"name": "fixed.png", "mimeType": "image/png", "buffer": png()}])
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("heading", name="Done — thank you")).to_be_visible()
    expect(page.locator("img").first).to_be_visible()
    done = live.api("GET", f"/tickets/{ticket['id']}")
    assert done["status"] == "completed"
    assert done["appointments"][0]["completedAt"] is not None
    fits_the_phone(page)
    screenshot(page, "job-done-phone")


def test_the_tenant_confirms_the_time_and_rates_the_visit_on_the_status_page(live, open_page):
    ticket = live.report("Bob Williams", "plumbing", window="tomorrow 9am-5pm")
    _, ping = offer_link(live, ticket["id"])
    vendor = ping["vendorId"]
    status_url = live.intake["Bob Williams"] + f"/tickets/{ticket['id']}"
    page, _ = open_page(PHONE)
    page.goto(status_url)
    starts = live.api("GET", f"/tickets/{ticket['id']}")["createdAt"][:10]
    booked = live.api("POST", "/appointments", json={
        "ticketId": ticket["id"], "vendorId": vendor, "confirmationMethod": "manual",
        "startsAt": f"{starts}T23:00:00Z"})  # the landlord books by hand, with a time
    confirm = page.get_by_role("button", name="Confirm")
    expect(confirm).to_be_visible(timeout=UPDATE_SECONDS * 1000)  # the page updates itself
    fits_the_phone(page)
    screenshot(page, "status-confirm-phone")
    confirm.click()
    expect(page.locator("#visit")).to_contain_text("Visit: Confirmed",
                                                   timeout=UPDATE_SECONDS * 1000)
    visit = live.api("GET", f"/appointments/{booked['id']}")
    assert visit["status"] == "confirmed" and visit["confirmedAt"] is not None

    live.api("POST", f"/appointments/{booked['id']}/complete")
    page.reload()  # a booked ticket's page asks only every 30 s
    expect(page.get_by_role("heading", name="Is it fixed?")).to_be_visible()
    page.get_by_label("5").check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#visit")).to_contain_text("Thanks for rating 5/5.")
    assert live.api("GET", f"/appointments/{booked['id']}")["rating"] == 5


def test_a_spanish_vendors_job_page_is_in_spanish_and_fits_the_phone(live, open_page):
    ticket = live.report("Bob Williams", "plumbing", window="tomorrow 10am-4pm",
                         description="The bathroom tap drips all night.")
    link, ping = offer_link(live, ticket["id"])
    live.api("PUT", f"/vendors/{ping['vendorId']}", json={"language": "es"})
    try:
        page, _ = open_page(PHONE)
        page.goto(link)
        expect(page.get_by_role("heading", name="¿Puede tomarlo?")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "es"
        fits_the_phone(page)
        page.get_by_role("button", name="Aceptar el trabajo").click()
        expect(page.get_by_text("Este trabajo es suyo.")).to_be_visible()
        expect(page.get_by_role("heading", name="Fijar la hora de la visita")).to_be_visible()
        page.get_by_label("O escriba una hora").fill("mañana 2pm")
        page.get_by_role("button", name="Fijar la hora de la visita").click()
        expect(page.get_by_role("heading", name=re.compile(r"Visita .*14:00"))).to_be_visible()
        fits_the_phone(page)
        # handed back, so the vendor is free again for the tests after this one
        page.get_by_role("button", name="Devolver el trabajo").click()
        expect(page.get_by_role("heading", name="Usted devolvió este trabajo.")).to_be_visible()
    finally:
        live.api("PUT", f"/vendors/{ping['vendorId']}", json={"language": "en"})
