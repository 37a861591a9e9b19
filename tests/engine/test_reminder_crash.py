"""A visit reminder goes out at most once, even when the worker is killed between Twilio
accepting it and Fixline recording that it did (CONTRACT.md §9 "each one once, after restarts
too"): the sweep gives such a reminder up instead of sending it again."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from app.booking import loop, sweep
from app.messaging import outbound
from app.models import Appointment, Message
from tests import twilio_fake
from tests.conftest import make_config
from tests.engine.conftest import pending

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

CHILD = textwrap.dedent("""
    import os, sys
    from datetime import datetime
    from app import clock, create_app
    from app.db import db
    from app.messaging import outbound
    from tests.conftest import make_config

    url, instance, base, message_id, now = sys.argv[1:6]
    clock.set_fake(datetime.fromisoformat(now))  # the test's clock, in this worker too
    config = make_config(url, instance, twilio_account_sid="{sid}", twilio_auth_token="{token}",
                         twilio_from_number="+15005550006", twilio_api_base=base)
    application = create_app(config)
    real = outbound.channel_for

    class KilledAfterSend:
        remote = True

        def __init__(self, channel):
            self.channel = channel

        def send(self, message, config):
            self.channel.send(message, config)  # Twilio has it now
            os._exit(9)  # the worker dies before recording it: as a SIGKILL would

    outbound.channel_for = lambda config, kind: KilledAfterSend(real(config, kind))
    with application.app_context(), db.connection_context():
        outbound.deliver(int(message_id), config)
    sys.exit(0)  # not reached
""")


@pytest.fixture
def config(database_url, tmp_path, fake_twilio):
    """Twilio pointed at the fake; one reminder an hour before each visit."""
    return make_config(database_url, tmp_path / "instance", visit_reminders=(3600,),
                       **fake_twilio.settings())


def _killed_mid_send(config, tmp_path, fake_twilio, message: Message, now) -> None:
    """Deliver message in a worker process that dies right after Twilio accepted it."""
    script = CHILD.replace("{sid}", fake_twilio.account_sid).replace(
        "{token}", fake_twilio.auth_token)
    done = subprocess.run([sys.executable, "-c", script, config.database_url,
                           str(tmp_path / "instance"), fake_twilio.base_url, str(message.id),
                           now.isoformat()],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr


def test_a_reminder_the_worker_died_sending_is_never_sent_again(
        app, config, bus, fake_clock, make_vendor, intake, fake_twilio, tmp_path):
    make_vendor("Ann")
    ticket = intake(severity="emergency", window="now")
    loop.start(ticket.id, config)
    offer = pending(ticket)
    start = fake_clock.now + timedelta(hours=3)
    assert loop.accept(offer.id, "sms", config, (start, None)) == "booked"
    visit = Appointment.get(Appointment.ticket == ticket)
    assert visit.remind_at == start - timedelta(hours=1)

    fake_clock.advance(2 * 3600 + 1)  # past the reminder's moment
    assert sweep.remind_visits(config) == 1
    reminders = list(Message.select().where(Message.dedupe_key.startswith(
        outbound.AT_MOST_ONCE)).order_by(Message.id))
    assert [m.recipient_type for m in reminders] == ["tenant", "vendor"]
    sent_before = len(fake_twilio.created)

    _killed_mid_send(config, tmp_path, fake_twilio, reminders[0], fake_clock.now)
    assert len(fake_twilio.created) == sent_before + 1  # Twilio took it
    assert Message.get_by_id(reminders[0].id).status == "sending"  # never recorded

    fake_clock.advance(sweep.STALE_SENDING.total_seconds() + 1)
    sweep.run(config)
    crashed = Message.get_by_id(reminders[0].id)
    assert crashed.status == "failed" and "at most once" in crashed.error
    assert outbound.deliver(crashed.id, config) == "skipped"
    assert sweep.remind_visits(config) == 0  # the reminder itself is not due again
    bus.deliver()  # the vendor's copy goes out normally
    to_tenant = [c for c in fake_twilio.created if c["to"] == ticket.tenant.phone
                 and "reminder" in c["body"]]
    assert len(to_tenant) == 1


def test_an_ordinary_message_the_worker_died_sending_goes_again(
        app, config, bus, fake_clock, landlord, fake_twilio, tmp_path):
    """The contrast: a notice is sent at least once, so the sweep queues it again."""
    notice = outbound.queue(landlord=landlord, to="+15550300009", body="hello")
    _killed_mid_send(config, tmp_path, fake_twilio, notice, fake_clock.now)
    assert Message.get_by_id(notice.id).status == "sending"
    fake_clock.advance(sweep.STALE_SENDING.total_seconds() + 1)
    sweep.run(config)
    assert Message.get_by_id(notice.id).status == "queued"
