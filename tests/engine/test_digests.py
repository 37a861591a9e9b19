"""Daily digests: one email a morning (08:00 on the landlord's clock) of the last day and what
waits on the landlord, only with a mail server, never twice, nothing on an empty day."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.booking import digests, sweep
from app.models import Landlord, Message
from tests.conftest import make_config

THU_8AM = datetime(2026, 3, 5, 14, 0)  # Thu 5 Mar 2026, 08:00 in Chicago (CST)


@pytest.fixture
def config(database_url, tmp_path):
    """A mail server configured (the bus stands in for the worker that would send)."""
    return make_config(database_url, tmp_path / "instance",
                       smtp_url="smtp+plain://127.0.0.1:2525")


def digest_emails(landlord) -> list[Message]:
    return list(Message.select().where(Message.to_number == landlord.email,
                                       Message.channel == "email",
                                       Message.dedupe_key.startswith("digest:"))
                .order_by(Message.id))


def tick(bus, config, fake_clock, at: datetime) -> None:
    fake_clock.set(at)
    sweep.run(config)
    bus.settle()


def test_the_morning_digest_tells_the_day_once(bus, make_vendor, intake, landlord, config,
                                               fake_clock):
    sweep.run(config)  # Wed 09:00: armed for tomorrow 08:00, nothing sent
    assert Landlord.get_by_id(landlord.id).digest_at == THU_8AM
    assert digest_emails(landlord) == []
    make_vendor("Ann")
    intake()
    bus.settle()

    tick(bus, config, fake_clock, THU_8AM - timedelta(seconds=1))
    assert digest_emails(landlord) == []
    tick(bus, config, fake_clock, THU_8AM + timedelta(seconds=1))
    [email] = digest_emails(landlord)
    assert email.body.startswith(f"Fixline daily digest for {landlord.name}: 1 ticket reported "
                                 "and 0 booked in the last day.")
    assert "1 escalated ticket waits on you" in email.body  # its SLA passed overnight
    assert Landlord.get_by_id(landlord.id).digest_at == THU_8AM + timedelta(days=1)
    tick(bus, config, fake_clock, THU_8AM + timedelta(minutes=5))
    assert len(digest_emails(landlord)) == 1


def test_an_empty_day_and_no_mail_server_send_nothing(bus, landlord, config, fake_clock):
    quiet = Landlord.create(name="Quiet Owner", email="quiet@example.com", phone="+15550009999")
    sweep.run(config)
    morning = datetime(2026, 3, 5, 8, 0)  # no property: the landlord's clock is UTC
    assert Landlord.get_by_id(quiet.id).digest_at == morning
    tick(bus, config, fake_clock, morning + timedelta(seconds=1))
    assert digest_emails(quiet) == []
    assert Landlord.get_by_id(quiet.id).digest_at == morning + timedelta(days=1)

    without = replace(config, smtp_url=None)
    assert digests.send(landlord.id, without) is False


def test_the_next_morning_follows_the_landlords_clock_across_dst(landlord, app):
    saturday = datetime(2026, 3, 7, 16, 0)  # Sat 10:00 CST; clocks spring forward Sunday
    assert digests.next_morning(landlord.id, saturday) == datetime(2026, 3, 8, 13, 0)  # 8 CDT
