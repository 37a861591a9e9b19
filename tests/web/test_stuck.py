"""Rows Fixline stopped retrying are shown to their landlord, who can try them again."""

from __future__ import annotations

from app import clock, faults
from app.models import Event, Fault


def park(ticket, error="KeyError: 'tenant'") -> Fault:
    return Fault.create(kind="ticket", row_id=ticket.id, ticket=ticket,
                        landlord=ticket.landlord_id, attempts=faults.MAX_ATTEMPTS, error=error,
                        failed_at=clock.now())


def test_the_ticket_page_and_dashboard_show_a_parked_row(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    park(ticket)
    page = landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Stuck: Fixline stopped retrying" in page and "KeyError: &#39;tenant&#39;" in page
    board = landlord_client.get("/dashboard").get_data(as_text=True)
    assert "Stuck: Fixline stopped retrying" in board and f"ticket #{ticket.id}" in board


def test_nothing_stuck_shows_nothing(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    assert "Stuck" not in landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Stuck" not in landlord_client.get("/dashboard").get_data(as_text=True)


def test_try_again_unparks_the_row_for_the_sweep(landlord_client, seeded, make_ticket,
                                                 csrf_token):
    ticket = make_ticket(seeded, "dispatching")
    fault = park(ticket)
    token = csrf_token(landlord_client, f"/tickets/{ticket.id}")
    response = landlord_client.post(f"/faults/{fault.id}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tickets/{ticket.id}")
    fault = Fault.get_by_id(fault.id)
    assert fault.failed_at is None and fault.retry_at is not None
    assert fault.attempts == faults.MAX_ATTEMPTS - 1  # one more failure parks it again
    retried = Event.get(Event.type == "fault.retried")
    assert (retried.ticket_id, retried.actor) == (ticket.id, f"landlord:{seeded.id}")


def test_another_landlords_row_is_not_found(other_client, seeded, make_ticket, csrf_token):
    fault = park(make_ticket(seeded, "dispatching"))
    token = csrf_token(other_client, "/dashboard")
    response = other_client.post(f"/faults/{fault.id}/retry", data={"csrf_token": token})
    assert response.status_code == 404
    assert Fault.get_by_id(fault.id).failed_at is not None
