"""A Spanish-speaking vendor and tenant through the signed SMS webhook (CONTRACT §13): the
offer, the answer to SI, the tenant's notice and question, HORA with Spanish words, LISTO, the
rating and NO ARREGLADO; English words still work for them, and English people stay English."""

from __future__ import annotations

import pytest

from app.models import Message, Tenant, Vendor
from tests.webhooks import test_visit_words as words
from tests.webhooks.conftest import pending, said
from tests.webhooks.test_visit_words import last_to

# test_visit_words' fixtures (a fake Twilio, Wednesday 9am, an inline bus), requested by name
acme, bus, config = words.acme, words.bus, words.config
fake_clock, fake_twilio = words.fake_clock, words.fake_twilio


@pytest.fixture
def spanish(office):
    """Acme Plumbing and the tenant read Spanish, from before the ticket is opened."""
    Vendor.update(language="es").where(Vendor.id == office.vendors["Acme Plumbing"].id).execute()
    Tenant.update(language="es").where(Tenant.id == office.tenant.id).execute()
    for vendor in office.vendors.values():
        vendor.language = Vendor.get_by_id(vendor.id).language
    return office


def offer_body(ticket) -> str:
    ping = pending(ticket)
    return Message.get(Message.ping == ping, Message.direction == "outbound").body


def test_the_offer_and_the_whole_visit_in_spanish(spanish, open_job, text, bus, acme):
    ticket = open_job()
    offer = offer_body(ticket)
    code = pending(ticket).code
    assert offer.startswith(f"Trabajo Fixline {code}: plomeria (urgencia) en ")
    assert f"Responda SI {code} para tomarlo o NO {code} para pasar." in offer

    answer = said(text(acme, f"SÍ {code}"))
    assert answer.startswith(f"El trabajo {code} es suyo: plomeria (urgencia)")
    assert f"Responda LISTO {code} al terminar" in answer
    bus.run_events()
    to_tenant = last_to("tenant", ticket)
    assert to_tenant.startswith("Fixline: Acme Plumbing vendra por su problema de plomeria")
    assert to_tenant.endswith("Responda SI para confirmar o NO si esa hora no le sirve.")

    answer = said(text(acme, f"HORA {code} mañana a las 10am"))
    assert answer == (f"Trabajo {code}: visita fijada para jue 5 de mar, 10:00-12:00. Pedimos "
                      "al inquilino que la confirme.")
    assert said(text(spanish.tenant.phone, "si")).startswith("Gracias: su visita con Acme")

    assert said(text(acme, f"listo {code}")).startswith(f"Gracias: el trabajo {code} esta")
    bus.run_events()
    assert last_to("tenant", ticket).endswith("o NO ARREGLADO.")
    assert said(text(spanish.tenant.phone, "5 estrellas")) == (
        "Gracias por calificar la visita con 5/5.")


def test_english_words_from_a_spanish_vendor_are_answered_in_spanish(spanish, open_job, text,
                                                                     acme):
    code = pending(open_job()).code
    assert said(text(acme, f"YES {code}")).startswith(f"El trabajo {code} es suyo")


def test_a_time_that_cannot_be_read_is_explained_in_spanish(spanish, open_job, text, acme):
    code = pending(open_job()).code
    assert said(text(acme, f"SI {code}")).startswith("El trabajo")
    assert said(text(acme, f"HORA {code} blah")) == (
        "No pudimos leer esa hora: diga cuando, por ejemplo 3pm, mañana 9:30am o martes 10am. "
        f"Responda HORA {code} <cuando>, por ejemplo HORA {code} mañana 9:30am.")


def test_help_is_in_the_senders_language(spanish, text, acme, office):
    assert said(text(acme, "AYUDA")).startswith("Fixline envia trabajos de mantenimiento.")
    assert said(text(office.vendors["Best Pipes"], "AYUDA")).startswith(
        "Fixline sends maintenance jobs.")


def test_the_landlords_notice_stays_english(spanish, open_job, text, bus, acme):
    ticket = open_job()
    said(text(acme, f"SI {pending(ticket).code}"))
    bus.run_events()
    assert last_to("landlord", ticket).startswith("Fixline: Acme Plumbing took the emergency")


def test_an_amount_that_cannot_be_used_is_explained_in_spanish(spanish, open_job, text, acme):
    code = pending(open_job()).code
    assert said(text(acme, f"SI {code}")).startswith("El trabajo")
    assert said(text(acme, f"PRECIO {code} 0")) == (
        f"Un presupuesto debe ser de mas de $0.00. No cambio nada: responda PRECIO {code} "
        f"<monto>, por ejemplo PRECIO {code} 350.50.")
    assert said(text(acme, f"PRECIO {code} 12.345")).startswith(
        "Un monto tiene como maximo dos decimales (centavos).")
