"""app.prepared: SQL rendered once gives the rows, counts and ids peewee's own queries give."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from peewee import JOIN, fn

from app import create_app, prepared
from app.db import db, is_postgres, shown_sql, transaction
from app.migrate import upgrade
from app.models import Event, Landlord, Property, Tenant, Ticket
from app.prepared import Param, Prepared, numbered
from tests.conftest import make_config

NAMED = Prepared(lambda: Landlord.select().where(Landlord.name == Param("name")).order_by(
    Landlord.id))
CREATED = Prepared(lambda: Landlord.select(Landlord.created_at).where(Landlord.id == Param("id")))
RENAME = Prepared(lambda: Landlord.update(name=Param("new", Landlord.name)).where(
    Landlord.name == Param("old")))
TENANTS_OF = Prepared(lambda: Tenant.select(Tenant, Property).join(Property).where(
    Property.landlord == Param("landlord")).order_by(Tenant.id))
COUNT = Prepared(lambda: Landlord.select(fn.COUNT(Landlord.id)))


def _landlord(name: str, **extra) -> Landlord:
    return Landlord.create(name=name, email=f"{name}@example.com", phone="+15555550100", **extra)


def test_rows_first_and_scalar_match_peewee(app):
    at = datetime(2026, 3, 4, 15, 0, 1, 250000)
    first, second = _landlord("ann", created_at=at), _landlord("bob")
    assert [row.id for row in NAMED.rows(name="ann")] == [first.id]
    assert NAMED.first(name="bob").email == second.email
    assert NAMED.first(name="nobody") is None
    assert CREATED.scalar(id=first.id) == at  # converted by the field, as peewee's scalar()
    assert CREATED.scalar(id=-1) is None
    assert COUNT.scalar() == 2


def test_write_counts_and_model_parameters(app):
    owner = _landlord("carol")
    _landlord("carol2")
    with transaction():
        assert RENAME.execute(old="carol", new="dana") == 1
        assert RENAME.execute(old="nobody", new="x") == 0
    assert Landlord.get_by_id(owner.id).name == "dana"
    prop = Property.create(landlord=owner, address="1 Main St", timezone="UTC")
    tenant = Tenant.create(property=prop, name="Tia", phone="+15555550101",
                           intake_token="tia-token")
    rows = TENANTS_OF.rows(landlord=owner)  # a model instance converts to its id
    assert [(row.id, row.property.address) for row in rows] == [(tenant.id, "1 Main St")]
    assert TENANTS_OF.rows(landlord=owner.id)[0].id == tenant.id


def test_create_fills_defaults_per_row_and_returns_the_new_id(app):
    first = Event.create(type="a.b", actor="test", data={"n": 1})
    second = Event.create(type="a.b", actor="test", data={"n": 2})
    assert second.id == first.id + 1
    stored = Event.get_by_id(second.id)
    assert stored.data == {"n": 2} and stored.created_at is not None
    assert not second.is_dirty()
    explicit = _landlord("erin", id=first.id + 1000)
    assert explicit.id == first.id + 1000 and Landlord.get_by_id(explicit.id).name == "erin"


def test_lookups_by_id_and_lazy_rows(app):
    owner = _landlord("fay")
    prop = Property.create(landlord=owner, address="2 Main St", timezone="UTC")
    assert Property.find(prop.id).landlord.name == "fay"  # the lazy load
    assert Property.find(prop.id + 1) is None
    with pytest.raises(Property.DoesNotExist):
        Property.get_by_id(prop.id + 1)
    orphan = Property(landlord=owner.id + 99, address="x", timezone="UTC")
    with pytest.raises(Landlord.DoesNotExist):
        _ = orphan.landlord


def test_each_turns_only_the_rows_reached_into_models(app, monkeypatch):
    """each() gives rows() one at a time: a caller that stops at the first row pays for that
    row alone (next_up weighs a stretch of 16 vendors and usually asks the first), and the
    statement it leaves is finished with, so the connection goes on writing."""
    for name in ("ann", "bob", "cy", "dee"):
        _landlord(name)
    every = Prepared(lambda: Landlord.select().order_by(Landlord.id))
    assert [row.id for row in every.each()] == [row.id for row in every.rows()]
    built = []
    real = prepared._blank  # where the readers make each row's model

    def counted(model, *values):
        built.append(model)
        return real(model, *values)

    monkeypatch.setattr(prepared, "_blank", counted)
    rows = every.each()
    assert next(rows).name == "ann"
    assert len(built) == 1  # bob, cy and dee were never made into models
    rows.close()
    with transaction():  # nothing of the abandoned read stands in a write's way
        assert RENAME.execute(old="bob", new="bo") == 1
    assert [row.name for row in every.each()] == ["ann", "bo", "cy", "dee"]


def _shape(row, depth: int = 0):
    """What a read row is: its model, values, dirty marks, extra attributes and linked rows."""
    if row is None or depth > 2:
        return row
    extra = {k: v for k, v in vars(row).items() if k not in ("__data__", "_dirty", "__rel__")}
    return (type(row).__name__, dict(row.__data__), set(row._dirty), extra,
            {name: _shape(linked, depth + 1) for name, linked in row.__rel__.items()})


def test_rows_are_the_models_peewee_reads(app):
    """Prepared's readers fill a row's models at once instead of through each field's
    descriptor: what they make is what peewee's own readers make, for one model with an
    annotation, joined models, and an outer join that found nothing."""
    owner = _landlord("ann", created_at=datetime(2026, 3, 4, 15, 0, 1, 250000))
    with transaction():
        home = Property.create(landlord=owner, address="1 Main St")
        tenant = Tenant.create(property=home, name="Tia", phone="+15555550101",
                               intake_token="t-1")
        ticket = Ticket.create(landlord=owner, property=home, tenant=tenant, status="new",
                               category="plumbing", severity="routine", window="anytime")
        Event.create(ticket=ticket, landlord=owner, type="intake.completed", actor="api")
        Event.create(landlord=owner, type="landlord.noticed", actor="system")
    queries = [
        lambda: Landlord.select(Landlord, fn.LENGTH(Landlord.name).alias("letters")),
        lambda: Tenant.select(Tenant, Property).join(Property).order_by(Tenant.id),
        lambda: (Ticket.select(Ticket, Property, Tenant).join(Property).switch(Ticket)
                 .join(Tenant).order_by(Ticket.id)),
        lambda: (Event.select(Event, Ticket).join(Ticket, JOIN.LEFT_OUTER)
                 .order_by(Event.id)),
    ]
    for build in queries:
        expected = [_shape(row) for row in build()]
        statement = Prepared(build)
        for _ in range(2):  # the first run works out how to read, the second reuses it
            assert [_shape(row) for row in statement.rows()] == expected
    events = Prepared(queries[-1]).rows()
    assert events[0].ticket.id == ticket.id and events[1].ticket is None


def test_known_words_of_an_outcome_or_status_are_written_into_the_sql(app):
    """WordField: a ping's outcome and a visit's status compared with their own words are
    SQL literals (SQLite plans a statement binding them again on every run); anything else
    is bound."""
    from app.models import Appointment, Ping
    from tests.engine.test_statements_per_booking import planned_again

    def sql(query) -> tuple[str, list]:
        text, params = query.sql()
        return text, params

    text, params = sql(Ping.select(Ping.id).where(Ping.outcome == "pending"))
    assert "\"outcome\" = 'pending'" in text and params == [] and not planned_again(text)
    text, params = sql(Appointment.select().where(
        Appointment.status.in_(("tentative", "confirmed")), Appointment.status != "no_show"))
    assert "IN ('tentative', 'confirmed')" in text and "!= 'no_show'" in text and params == []
    text, params = sql(Ping.select().where(Ping.outcome.not_in(["filled"])))
    assert "NOT IN ('filled')" in text and params == []
    text, params = sql(Ping.select().where(Ping.outcome == "x'); DROP TABLE ping; --"))
    assert params == ["x'); DROP TABLE ping; --"] and planned_again(text) == ["t1.outcome"]
    text, params = sql(Ping.select().where(Ping.outcome.in_(("pending", "nonsense"))))
    assert params == ["pending", "nonsense"]
    assert {Ping.outcome: 1}[Ping.outcome] == 1  # still a field, hashable as before


# --- PostgreSQL: statements prepared on the server, once per connection ---

POSTGRES_ONLY = "PostgreSQL only: SQLite's driver keeps its statements prepared by itself"
UNTYPED = Prepared(lambda: Landlord.select(Landlord.id).where(Param("maybe").is_null()))


def _executed(run) -> list[str]:
    """The SQL run() sent through execute_sql, as sent."""
    sent, real = [], db.obj.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        sent.append(sql)
        return real(sql, params, *args, **kwargs)

    db.obj.execute_sql = recording
    try:
        run()
    finally:
        del db.obj.execute_sql
    return sent


def _on_server() -> set[str]:
    return {name for (name,) in db.obj.execute_sql("SELECT name FROM pg_prepared_statements")}


def test_postgresql_prepares_a_statement_once_then_executes_it(app):
    if not is_postgres():
        pytest.skip(POSTGRES_ONLY)
    ann = _landlord("ann")
    before = _on_server()
    assert [row.id for row in NAMED.rows(name="ann")] == [ann.id]
    compiled = NAMED._compiled[db.obj]
    assert compiled.name not in before and compiled.name in _on_server()
    sent = _executed(lambda: NAMED.first(name="ann"))  # the same connection: no PREPARE again
    assert sent == [f"EXECUTE {compiled.name}(%s)"]
    assert shown_sql(sent[0]) == compiled.sql  # what the slow-query log shows
    with transaction():  # inside a transaction too, and a write's count comes back
        assert RENAME.execute(old="ann", new="anna") == 1
    assert Landlord.get_by_id(ann.id).name == "anna"
    assert COUNT.scalar() == 1


def test_a_statement_the_server_cannot_prepare_runs_as_a_plain_one(app, caplog):
    if not is_postgres():
        pytest.skip(POSTGRES_ONLY)
    caplog.set_level(logging.WARNING, logger="app.prepared")
    with transaction():
        ann = _landlord("ann")
        # "$1 IS NULL": the server cannot tell $1's type, so PREPARE fails; the savepoint
        # around it keeps the transaction usable
        assert UNTYPED.rows(maybe=None)[0].id == ann.id
        assert Landlord.select().count() == 1
    compiled = UNTYPED._compiled[db.obj]
    assert compiled.server_side is False and compiled.name not in _on_server()
    assert any("not prepared on the server" in r.getMessage() for r in caplog.records)
    assert _executed(lambda: UNTYPED.rows(maybe=1)) == [compiled.sql]  # never tried again


def test_database_prepare_off_sends_plain_statements(database_url, tmp_path):
    if not database_url.startswith("postgres"):
        pytest.skip(POSTGRES_ONLY)
    create_app(make_config(database_url, tmp_path / "instance", database_prepare=False))
    with db.connection_context():
        upgrade()
        _landlord("bob")
        compiled_sql = NAMED._build().sql()[0]
        assert _executed(lambda: NAMED.first(name="bob")) == [compiled_sql]
        assert not _on_server()


def test_numbered_placeholders_keep_a_literal_percent():
    assert numbered("SELECT %s, '100%%s' LIKE %s") == "SELECT $1, '100%s' LIKE $2"
