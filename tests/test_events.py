"""The event store: written in the caller's transaction, published after commit, outbox."""

import pytest

from app import events
from app.booking import sweep
from app.db import transaction
from app.models import Event


@pytest.fixture
def recorder(app):
    """A handler for a test event type and a publisher that records ids."""
    handled, published = [], []
    events.HANDLERS["test.happened"] = lambda event, config: handled.append(event.id)
    events.set_publisher(published.append)
    yield handled, published
    events.HANDLERS.pop("test.happened", None)
    from actors import wiring

    wiring.connect()


def test_published_only_after_commit(recorder, landlord):
    _, published = recorder
    with transaction():
        event = events.emit("test.happened", landlord=landlord, n=1)
        assert published == []
    assert published == [event.id]
    assert Event.get_by_id(event.id).handled_at is None  # published, not yet handled


def test_rolled_back_event_is_neither_stored_nor_published(recorder, landlord):
    _, published = recorder
    with pytest.raises(RuntimeError), transaction():
        events.emit("test.happened", landlord=landlord)
        raise RuntimeError("boom")
    assert published == [] and Event.select().count() == 0


def test_broker_down_leaves_event_in_outbox_for_the_sweep(recorder, landlord, config):
    def down(_):
        raise ConnectionError("redis is down")

    events.set_publisher(down)
    with transaction():
        event = events.emit("test.happened", landlord=landlord)
    assert Event.get_by_id(event.id).handled_at is None
    _, published = recorder
    events.set_publisher(published.append)
    assert sweep.run(config)["republished"] == 0  # not overdue yet
    long_ago = event.created_at.replace(year=2000)
    Event.update(dispatched_at=long_ago).where(Event.id == event.id).execute()
    assert sweep.run(config)["republished"] == 1
    assert published == [event.id]
    assert sweep.run(config)["republished"] == 0  # its clock restarted


def test_a_published_event_the_broker_lost_is_handed_over_again(recorder, landlord, config):
    handled, published = recorder
    with transaction():
        event = events.emit("test.happened", landlord=landlord)
    assert published == [event.id]  # accepted by the broker, then lost (say Redis restarted)
    long_ago = event.created_at.replace(year=2000)
    Event.update(dispatched_at=long_ago).where(Event.id == event.id).execute()
    assert sweep.run(config)["republished"] == 1 and published == [event.id, event.id]
    assert events.handle(event.id, config) and handled == [event.id]
    Event.update(dispatched_at=long_ago).where(Event.id == event.id).execute()
    assert sweep.run(config)["republished"] == 0  # handled: never again


def test_unhandled_types_are_audit_only(recorder, landlord):
    _, published = recorder
    with transaction():
        event = events.emit("ticket.note", landlord=landlord)
    assert published == [] and Event.get_by_id(event.id).handled_at is not None
    assert events.handle(event.id, None) is False


def test_replay_redelivers_handled_events(recorder, landlord, config):
    handled, _ = recorder
    with transaction():
        first = events.emit("test.happened", landlord=landlord)
        events.emit("ticket.note", landlord=landlord)
    assert events.replay(config) == 1 and handled == [first.id]


def test_handler_runs_through_the_actor(recorder, landlord, broker, worker):
    handled, _ = recorder
    from actors import wiring

    wiring.connect()
    with transaction():
        event = events.emit("test.happened", landlord=landlord)
    broker.join("default")
    worker.join()
    assert handled == [event.id]
