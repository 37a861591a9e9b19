"""The ticket page's cancel asks an optional reason, kept in ticket.cancelled and shown on the
timeline; cancel and complete record the events whose handlers tell the people involved."""

from __future__ import annotations

from app.models import Event, Ticket
from tests.web.test_tickets_page import follow, page, post


def test_the_cancel_form_asks_an_optional_reason(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    html = page(landlord_client, ticket)
    form = html.split(f'action="/tickets/{ticket.id}/cancel"', 1)[1].split("</form>", 1)[0]
    assert 'name="reason"' in form and 'maxlength="500"' in form and "required" not in form


def test_cancel_with_a_reason_records_and_shows_it(landlord_client, csrf_token, seeded,
                                                   make_ticket):
    ticket = make_ticket(seeded, "scheduled")
    response = post(landlord_client, csrf_token, ticket, "cancel",
                    {"reason": "Tenant fixed it <b>herself</b>"})
    html = follow(landlord_client, response)
    assert "Ticket cancelled." in html
    assert "Ticket cancelled: Tenant fixed it &lt;b&gt;herself&lt;/b&gt;" in html
    event = Event.get(Event.ticket == ticket, Event.type == "ticket.cancelled")
    assert (event.data["reason"], event.actor) == ("Tenant fixed it <b>herself</b>",
                                                   f"landlord:{seeded.id}")


def test_a_blank_reason_is_no_reason(landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    follow(landlord_client, post(landlord_client, csrf_token, ticket, "cancel", {"reason": "  "}))
    event = Event.get(Event.ticket == ticket, Event.type == "ticket.cancelled")
    assert event.data["reason"] is None


def test_a_reason_past_500_characters_is_refused(landlord_client, csrf_token, seeded,
                                                 make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    html = follow(landlord_client,
                  post(landlord_client, csrf_token, ticket, "cancel", {"reason": "x" * 501}))
    assert "Not cancelled: a reason is at most 500 characters." in html
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_complete_records_ticket_completed(landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "scheduled")
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "complete"))
    assert "Job marked completed." in html
    event = Event.get(Event.ticket == ticket, Event.type == "ticket.completed")
    assert event.actor == f"landlord:{seeded.id}"
