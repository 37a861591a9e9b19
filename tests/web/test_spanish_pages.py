"""The tenant's intake and status pages in the tenant's language (CONTRACT §13): Spanish for a
tenant whose language is es — the words, the form's errors, how Fixline read their window, the
status and its times — and English for everyone else, from the same catalog."""

from __future__ import annotations

import pytest

from app.models import Tenant, Ticket
from tests.web.test_intake import link, open_form, report, send


@pytest.fixture
def tenant(seeded) -> Tenant:
    """Alice Johnson (demo data), who reads Spanish."""
    Tenant.update(language="es").where(Tenant.name == "Alice Johnson").execute()
    return Tenant.get(Tenant.name == "Alice Johnson")


def test_the_report_page_is_in_spanish(client, tenant):
    html, _, _ = open_form(client, tenant)
    assert '<html lang="es">' in html
    assert "Reportar un problema" in html and "¿Qué tipo de problema es?" in html
    assert "Plomería" in html and "Fugas, desagües o inodoros tapados" in html
    assert "Es una <strong>urgencia</strong> si" in html and "Enviar reporte" in html
    # what the browser says before sending too many photos (static/js/photos.js fills in count)
    assert 'data-too-many="Adjunte como máximo 5 fotos (eligió {count})."' in html
    assert "Report a problem" not in html and "What kind of problem" not in html


def test_its_errors_and_window_note_are_in_spanish(client, tenant):
    page = send(client, tenant, report(category=None, window="mañana por la mañana"))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Falta corregir 1 cosa antes de enviar su reporte" in html
    assert "Elija qué tipo de problema es." in html
    assert "Lo entendimos como " in html  # Spanish window words read, shown in Spanish


def test_the_status_page_is_in_spanish(client, tenant):
    page = send(client, tenant, report(window="cualquier hora"))
    assert page.status_code == 303, page.get_data(as_text=True)
    status = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Su reporte" in status and "Lo que nos dijo" in status
    assert "Recibido" in status and "Plomería en <strong>" in status
    ticket = Ticket.select().where(Ticket.tenant == tenant).get()
    assert ticket.window == "cualquier hora"
    assert "Your report" not in status


def test_english_tenants_and_a_bad_link_stay_english(client, seeded):
    english = Tenant.get(Tenant.name != "Alice Johnson")
    html, _, _ = open_form(client, english)
    assert '<html lang="en">' in html and "Report a problem" in html
    missing = client.get(link(english) + "x").get_data(as_text=True)
    assert "This link does not work" in missing
