"""The vendor's job page in the vendor's language (CONTRACT §13): Spanish for a vendor whose
language is es, before and after taking the job, with its times, notices and the form's errors;
English for everyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.booking import visits
from app.models import Appointment, Vendor
from tests.web.test_job_page import WEDNESDAY_9AM, flashed, link, now, post, show, world

__all__ = ["now", "world"]  # test_job_page's fixtures, requested by name


@pytest.fixture
def spanish(world):
    """Acme, asked first, reads Spanish."""
    Vendor.update(language="es").where(Vendor.id == world.acme.id).execute()
    return world


def test_the_offer_is_in_spanish(client, spanish):
    html = show(client, spanish.ping)
    assert '<html lang="es">' in html
    for words in ("Un trabajo para usted. El primer técnico que acepte se lo queda.",
                  "¿Puede tomarlo?", "Aceptar el trabajo", "Rechazar", "Plomería",
                  "Tipo de trabajo", "El inquilino está disponible", "Fotos del inquilino",
                  "¿Cuándo vendrá? (opcional)", 'placeholder="mañana 9:30am"',
                  "Por ejemplo 3pm, mañana 9:30am o martes 10am."):
        assert words in html, words
    assert ">mié 4 de mar, 15:00</option>" in html  # the offered starts, on a 24-hour clock
    for english in ("Accept the job", "Can you take it?", "Kind of job", "Choose a time"):
        assert english not in html, english


def test_the_held_job_its_notices_and_errors_are_in_spanish(client, spanish):
    taken = flashed(client, post(client, spanish.ping, "accept", {"start": "2026-03-04T21:00"}))
    assert "Este trabajo es suyo." in taken and "Visita mié 4 de mar, 15:00" in taken
    assert "Provisional: pedimos al inquilino que la confirme." in taken
    assert "Llamar a Alice Tenant" in taken and "Marcar terminado" in taken
    assert "Devolver el trabajo" in taken and "Enviar el presupuesto" in taken

    refused = post(client, spanish.ping, "quote", {"amount": "0"})
    assert refused.status_code == 422
    assert ("Un presupuesto debe ser de más de $0.00. Escríbalo como 350.50 o 1,234.50; no se "
            "envió nada.") in refused.get_data(as_text=True)

    unread = post(client, spanish.ping, "time", {"typed": "blah"})
    assert unread.status_code == 422
    assert "No pudimos leer esa hora" in unread.get_data(as_text=True)

    moved = flashed(client, post(client, spanish.ping, "time", {"typed": "mañana 10am"}))
    assert "Visita fijada para jue 5 de mar, 10:00" in moved

    done = flashed(client, post(client, spanish.ping, "done"))
    assert "Marcado como terminado. ¡Gracias!" in done and "Terminado, gracias" in done


def test_an_expired_link_is_spanish_and_an_unknown_one_english(client, spanish):
    visits.complete(accepted_visit(client, spanish).id, actor="test")
    clock.set_fake(WEDNESDAY_9AM + timedelta(days=31))
    assert "Este enlace venció" in show(client, spanish.ping, 404)
    missing = client.get(link(spanish.ping) + "x")
    assert missing.status_code == 404
    assert "This link does not work" in missing.get_data(as_text=True)


def accepted_visit(client, world) -> Appointment:
    assert "Este trabajo es suyo." in flashed(client, post(client, world.ping, "accept"))
    return Appointment.get(Appointment.ticket == world.ticket)
