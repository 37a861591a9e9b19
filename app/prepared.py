"""Queries rendered to SQL once per database; each run only binds its values.

Peewee renders a query's SQL anew every time it runs, and that rendering costs several times
the query itself on SQLite (~140 µs to render a primary-key lookup that executes in ~10 µs).
The booking loop runs the same few dozen statements for every ticket, so its hot queries are
declared once as a `Prepared` whose values are `Param`s, and run with the values of the day:

    TICKET_STATUS = Prepared(lambda: Ticket.select(Ticket.status).where(Ticket.id == Param("id")))
    TICKET_STATUS.scalar(id=7)

The rows, counts and inserted ids come back exactly as peewee's own execute() gives them.

On PostgreSQL each statement is also prepared on the server, once per connection (PREPARE,
then EXECUTE with the values), so the server parses and plans it once rather than on every run:
planning cost more than running most of the booking loop's statements (~0.8 ms against
~0.4 ms for choosing the vendors). `DATABASE_PREPARE=0` turns that off, for a pooler that hands
one server connection to many clients (PgBouncer's transaction mode).
"""

from __future__ import annotations

import itertools
import logging
import re
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from peewee import ColumnBase, Field, ModelCursorWrapper, ModelObjectCursorWrapper, Query

from app.db import PREPARED_SQL, db, prepared_statements

log = logging.getLogger(__name__)


class _Slot:
    """Where a Param's value goes in the parameter list, and how it is converted."""

    __slots__ = ("name", "converter")

    def __init__(self, name: str, converter: Callable[[Any], Any] | None):
        self.name, self.converter = name, converter

    def bind(self, values: dict[str, Any]) -> Any:
        value = values[self.name]
        return self.converter(value) if self.converter is not None else value


class Param(ColumnBase):
    """A named value supplied when a Prepared query runs.

    In a comparison with a field the field converts it (as a literal would be); elsewhere (an
    UPDATE's or INSERT's value) name the field whose conversion applies.
    """

    def __init__(self, name: str, field: Field | None = None):
        super().__init__()
        self.name, self.field = name, field

    def __sql__(self, ctx):
        converter = self.field.db_value if self.field is not None else ctx.state.converter
        ctx._values.append(_Slot(self.name, converter))
        return ctx.literal(ctx.state.param or "?")


# A cursor wrapper's own state for one run; the rest (how each column maps to a field, its
# converter, which model it builds) is the same for every run of the same SQL.
_RUN_STATE = frozenset({"cursor", "count", "index", "initialized", "populated", "row_cache"})


_NAMES = itertools.count(1)
# The names prepared on each PostgreSQL connection (a connection forgets them when it closes).
_READY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Compiled:
    """One database's SQL of a Prepared, and how its result columns are read."""

    __slots__ = ("query", "sql", "params", "readers", "name", "execute_sql", "server_side")

    def __init__(self, query: Query):
        self.query = query
        sql, params = query.sql()
        self.sql, self.params = sql, tuple(params)
        self.readers: dict[str, dict[str, Any]] = {}  # by how rows are read: "rows", "tuples"
        self.name = f"fixline_{next(_NAMES)}"  # its name on a PostgreSQL server
        PREPARED_SQL[self.name] = self.sql
        values = ", ".join(["%s"] * len(self.params))
        self.execute_sql = f"EXECUTE {self.name}({values})" if values else f"EXECUTE {self.name}"
        self.server_side = True  # False once the server refused to prepare it

    def run(self, database, bound: list) -> Any:
        """Execute with the values bound: on PostgreSQL as a statement prepared on the
        connection (prepared first if this connection has not seen it)."""
        if not (self.server_side and prepared_statements(database)):
            return database.execute_sql(self.sql, bound)
        connection = database.connection()
        ready = _READY.get(connection)
        if ready is None:
            ready = _READY[connection] = set()
        if self.name not in ready:
            if not self._prepare(database, connection):
                return database.execute_sql(self.sql, bound)
            ready.add(self.name)
        return database.execute_sql(self.execute_sql, bound)

    def _prepare(self, database, connection) -> bool:
        """PREPARE on this connection; False (and never again) when the server refuses it. In a
        transaction the attempt has its own savepoint, so a refusal leaves the transaction
        usable. Not through execute_sql: it is the connection's, not the caller's statement."""
        import psycopg2  # only PostgreSQL gets here

        statement = f"PREPARE {self.name} AS {numbered(self.sql)}"
        with connection.cursor() as cursor:
            inside = database.in_transaction()
            if inside:
                cursor.execute("SAVEPOINT fixline_prepare")
            try:
                cursor.execute(statement)
            except psycopg2.Error as exc:
                if inside:
                    cursor.execute("ROLLBACK TO SAVEPOINT fixline_prepare")
                self.server_side = False
                log.warning("statement not prepared on the server (%s): %s", exc, self.sql)
                return False
            finally:
                if inside:
                    cursor.execute("RELEASE SAVEPOINT fixline_prepare")
        return True

    def wrap(self, query: Query, cursor, how: str) -> Any:
        """query's cursor wrapper for cursor, its column mapping worked out once.

        Peewee resolves every result column against the query's selection again on each run
        (~30 µs a query, more with joins); the SQL and so the columns never change here.
        """
        wrapper = query._get_cursor_wrapper(cursor)
        reader = self.readers.get(how)
        if reader is not None:
            wrapper.__dict__.update(reader)
            wrapper.initialized = True
        elif cursor.description is not None:  # a statement that returns rows
            wrapper.initialize()
            wrapper.initialized = True
            reader = {name: value for name, value in wrapper.__dict__.items()
                      if name not in _RUN_STATE}
            if type(wrapper) is ModelObjectCursorWrapper and wrapper.is_model:
                reader["process_row"] = _model_reader(wrapper)
            elif type(wrapper) is ModelCursorWrapper:
                reader["process_row"] = _joined_reader(wrapper)
            self.readers[how] = reader
        return wrapper


# Reading rows into models. Peewee sets each column through its field's descriptor, which
# marks it dirty only for the mark to be cleared again; these readers put a row's field values
# in place at once (a vendor's row of twenty columns: 32 → 26 µs, statement included) and
# leave the rest (annotations, the links between joined models) to peewee's own steps.
# tests/test_prepared.py holds them to peewee's results.


def _blank(model, data: dict | None = None) -> Any:
    """An instance of model as peewee's readers make one: these values (or none), nothing
    dirty, no related rows yet."""
    instance = model.__new__(model)
    instance.__data__ = {} if data is None else data
    instance._dirty, instance.__rel__ = set(), {}
    return instance


def _model_reader(wrapper: ModelObjectCursorWrapper) -> Callable[[tuple], Any]:
    """A row to its model instance, as ModelObjectCursorWrapper.process_row makes it."""
    model = wrapper.constructor
    fields = model._meta.fields
    columns, converters = wrapper.unique_columns, wrapper.converters
    plain = [(i, columns[i], converters[i]) for i in range(wrapper.ncols)
             if columns[i] in fields]
    other = [(i, columns[i], converters[i]) for i in range(wrapper.ncols)
             if columns[i] not in fields]  # an annotation: an attribute of the instance

    def read(row: tuple):
        instance = _blank(model, {name: row[i] if convert is None else convert(row[i])
                                  for i, name, convert in plain})
        for i, name, convert in other:
            setattr(instance, name, row[i] if convert is None else convert(row[i]))
        return instance

    return read


def _joined_reader(wrapper: ModelCursorWrapper) -> Callable[[tuple], Any]:
    """A row of joined models to the first, the others linked to it, as
    ModelCursorWrapper.process_row makes them."""
    constructors = wrapper._constructor_list
    owner = {key: (constructor if is_model else None)
             for key, constructor, is_model in constructors}
    root = wrapper.model
    spec = []
    for i, key, column, convert in wrapper._row_spec:
        key = key if key in owner else root  # a column of no joined source: the first row's
        model = owner[key]
        spec.append((i, key, column, convert, model is not None and column in model._meta.fields))
    links, reachable = wrapper.src_to_dest, wrapper._dest_reachable

    def read(row: tuple):
        objects = {key: _blank(constructor) if is_model else constructor()
                   for key, constructor, is_model in constructors}
        set_keys = set()
        for i, key, column, convert, field in spec:
            value = row[i]
            if value is not None:
                set_keys.add(key)
            if convert is not None:
                value = convert(value)
            instance = objects[key]
            if field:
                instance.__data__[column] = value
            elif isinstance(instance, dict):
                instance[column] = value
            else:
                setattr(instance, column, value)
        for src, attr, dest, is_dict, is_outer, is_fk in links:  # peewee's, as it is
            instance = objects.get(src)
            joined = objects.get(dest)
            if joined is None and dest not in objects:
                continue
            assign = False
            if dest not in set_keys and dest in reachable:
                assign = bool(reachable[dest] & set_keys)
            if dest not in set_keys and not assign:
                if is_outer:
                    joined = None
                else:
                    continue
            if src not in set_keys and dest not in set_keys and is_outer:
                continue
            if is_dict:
                instance[attr] = joined
            elif is_fk and joined is None:
                instance.__rel__[attr] = None  # a row known to be absent, its key kept
            else:
                setattr(instance, attr, joined)
        for instance in objects.values():
            if not isinstance(instance, dict):
                instance._dirty.clear()
        return objects[root]

    return read


class Prepared:
    """A query built once per database by build(); each run executes its cached SQL."""

    def __init__(self, build: Callable[[], Query]):
        self._build = build
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._as_tuples: Query | None = None  # reads rows as tuples, converted (scalar)

    def _execute(self, values: dict[str, Any]) -> tuple[_Compiled, Any]:
        database = db.obj
        compiled = self._compiled.get(database)
        if compiled is None:  # the SQL differs between databases (quoting, RETURNING, locks)
            compiled = self._compiled[database] = _Compiled(self._build())
        bound = [p.bind(values) if isinstance(p, _Slot) else p for p in compiled.params]
        return compiled, compiled.run(database, bound)

    def _tuples(self) -> Query:
        if self._as_tuples is None:
            self._as_tuples = self._build().tuples()
        return self._as_tuples

    def rows(self, **values) -> list:
        """Every row, as the query would give them (model instances, dicts, tuples)."""
        compiled, cursor = self._execute(values)
        return list(compiled.wrap(compiled.query, cursor, "rows"))

    def each(self, **values) -> Iterator:
        """The rows one at a time, each turned into its model only when reached: a caller that
        stops at the first row that suits it pays for that row, not for the whole result."""
        compiled, cursor = self._execute(values)
        try:
            yield from compiled.wrap(compiled.query, cursor, "rows")
        finally:  # stopped early: the statement is finished with, not left open
            cursor.close()

    def first(self, **values):
        """The first row, or None."""
        rows = self.rows(**values)
        return rows[0] if rows else None

    def scalar(self, **values):
        """The first column of the first row, or None."""
        compiled, cursor = self._execute(values)
        row = next(iter(compiled.wrap(self._tuples(), cursor, "tuples")), None)
        return row[0] if row else None

    def execute(self, **values):
        """Run a write: rows changed for UPDATE and DELETE, the new id for INSERT."""
        compiled, cursor = self._execute(values)
        query = compiled.query
        if getattr(query, "_returning", None):  # PostgreSQL's INSERT … RETURNING "id"
            cursor = query._get_cursor_wrapper(cursor)
        return query.handle_result(db.obj, cursor)


_PLACEHOLDER = re.compile(r"%%|%s")


def numbered(sql: str) -> str:
    """psycopg2's SQL (%s placeholders, %% for a literal %) as PREPARE takes it ($1, $2, …)."""
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m[0] == "%%" else f"${next(numbers)}", sql)


_BY_SHAPE: dict[Hashable, Prepared] = {}


def per_shape(key: Hashable, build: Callable[[], Query]) -> Prepared:
    """The one Prepared for key, for a query whose shape varies (by model, by columns set);
    build is used only the first time key is seen."""
    prepared = _BY_SHAPE.get(key)
    if prepared is None:
        prepared = _BY_SHAPE.setdefault(key, Prepared(build))
    return prepared
