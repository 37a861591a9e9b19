"""A browser's error pages: in Fixline's layout, readable on a phone, with a way back; the API
keeps its JSON errors."""

from __future__ import annotations


def test_a_page_that_is_not_there_is_a_fixline_page(client):
    response = client.get("/nowhere")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<h1>Page not found</h1>" in html and '<a href="/">Back to Fixline</a>' in html
    assert "requested URL was not found" not in html  # not werkzeug's bare page


def test_another_landlords_ticket_is_not_found_in_the_layout_with_the_nav(
        other_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "new")
    response = other_client.get(f"/tickets/{ticket.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "<h1>Page not found</h1>" in html
    assert 'href="/vendors/"' in html  # the logged-in landlord keeps their navigation


def test_a_method_a_page_does_not_take_says_so_and_names_the_allowed_ones(client):
    response = client.delete("/login")
    assert response.status_code == 405 and "<h1>Not allowed here</h1>" in response.get_data(
        as_text=True)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_the_api_still_answers_json(client):
    response = client.get("/api/nowhere")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
