"""The database cannot be reached: 503 with the contract's error body and Retry-After on /api,
a plain 503 page elsewhere, never a 500 or a traceback; the next request that reaches it works."""

from __future__ import annotations

import socket

import pytest
from peewee import InterfaceError

from app import create_app
from app.db import db
from tests.conftest import make_config


@pytest.fixture
def unreachable(tmp_path):
    """A client of an app whose PostgreSQL refuses connections (a port nobody listens on)."""
    with socket.socket() as probe:  # bound, never listening: connecting is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        url = f"postgresql://fixline@127.0.0.1:{port}/fixline"
        yield create_app(make_config(url, tmp_path / "instance")).test_client()


def test_api_answers_503_with_the_error_body_while_the_database_is_unreachable(unreachable):
    for method, path in (("GET", "/api/tickets"), ("POST", "/api/vendors")):
        response = unreachable.open(path, method=method, json={},
                                    headers={"Authorization": "Bearer fx_any"})
        assert response.status_code == 503
        assert response.get_json() == {"error": {
            "code": "unavailable",
            "message": "the database cannot be reached just now; try again shortly"}}
        assert response.headers["Retry-After"] == "5"


def test_pages_answer_a_plain_503_while_the_database_is_unreachable(unreachable):
    response = unreachable.get("/login")
    assert response.status_code == 503
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("Service Unavailable")
    assert "127.0.0.1" not in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"


def test_a_connection_lost_mid_request_is_503_and_the_next_request_works(
        client, auth, monkeypatch, caplog):
    def lost(*args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(db.obj, "execute_sql", lost)
    response = client.get("/api/tickets", headers=auth)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"
    assert "database unavailable on GET /api/tickets: InterfaceError" in caplog.text
    assert "Traceback" not in caplog.text

    monkeypatch.undo()
    assert client.get("/api/tickets", headers=auth).status_code == 200
