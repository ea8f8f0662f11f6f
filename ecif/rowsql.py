"""One-row statements at the driver level, for the real-time API's path.

SQLAlchemy builds, caches and runs a Core statement at a cost of about
0.1 ms of CPU per call (``insert(...).values(...)`` of a wide row: several
times that); the driver itself costs a few microseconds. A match-check makes
two statements and a registration about ten, so the API's hot path runs
fixed SQL on the connection's DBAPI cursor, inside the same transaction as
the Core statements around it:

- :func:`fetch` / :func:`run`: SQL written with ``?`` placeholders (turned
  into ``%s`` for psycopg) and a tuple of values; rows as tuples, or as dicts
  with :func:`fetch_dicts`. The values are what the driver binds and returns,
  as for SQLAlchemy's ``text()`` (which converts nothing either);
- :func:`together`: statements of one change that do not read each other's
  writes, in one round trip on PostgreSQL (data-modifying CTEs);
- :class:`RowInsert` / :class:`RowUpdate`: one row of a table, the values
  converted by the columns' own bind processors (JSON documents, SQLite's
  datetimes: exactly what SQLAlchemy would bind) and the columns' Python-side
  defaults filled in for those not given, as an ``insert()`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table

__all__ = ["fetch", "fetch_dicts", "run", "run_many", "in_list", "together", "RowInsert",
           "RowUpdate"]


def _sql(conn: Connection, sql: str) -> str:
    """``sql`` with ``?`` placeholders in the connection's paramstyle."""
    if conn.dialect.paramstyle == "qmark":
        return sql
    cache = _PG_SQL.get(sql)
    if cache is None:
        if "%" in sql:
            raise ValueError("a literal % in driver-level SQL")
        cache = _PG_SQL[sql] = sql.replace("?", "%s")
    return cache


_PG_SQL: dict[str, str] = {}


def _cursor(conn: Connection) -> Any:
    # the connection's own DBAPI connection: the statement runs in its transaction
    return conn.connection.cursor()


def fetch(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cur = _cursor(conn)
    try:
        cur.execute(_sql(conn, sql), tuple(params))
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


def fetch_dicts(conn: Connection, sql: str, params: Sequence[Any] = ()
                ) -> list[dict[str, Any]]:
    cur = _cursor(conn)
    try:
        text = _sql(conn, sql)
        cur.execute(text, tuple(params))
        names = _NAMES.get(text)
        if names is None:
            # psycopg builds the description's column objects at every call (~0.1 ms
            # for the candidates' 40 columns); a fixed statement's names do not change
            names = [d[0] for d in cur.description]
            if len(_NAMES) > 2000:
                _NAMES.clear()
            _NAMES[text] = names
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        cur.close()


_NAMES: dict[str, list[str]] = {}


def run(conn: Connection, sql: str, params: Sequence[Any] = ()) -> None:
    cur = _cursor(conn)
    try:
        cur.execute(_sql(conn, sql), tuple(params))
    finally:
        cur.close()


def run_many(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    cur = _cursor(conn)
    try:
        cur.executemany(_sql(conn, sql), [tuple(r) for r in rows])
    finally:
        cur.close()


def together(conn: Connection, parts: Sequence[tuple[str, Sequence[Any]]]
             ) -> list[tuple[Any, ...]]:
    """Run the statements ``parts`` ((sql, params), in order) in the open transaction;
    return the rows of the last (none when it returns none). On PostgreSQL in one round
    trip: the earlier statements (each an INSERT, UPDATE or DELETE) become
    data-modifying CTEs of the last, named ``w0``, ``w1``, ... (a later statement may
    read an earlier one's RETURNING: ``(SELECT id FROM w0)``; otherwise none sees
    another's changes, as they share one snapshot: never two writes to one row, nor
    a delete and a re-insert of one key); elsewhere one by one, where a later
    statement must not refer to an earlier one."""
    if not parts:
        return []
    if conn.dialect.name != "postgresql":
        for sql, params in parts[:-1]:
            run(conn, sql, params)
        parts = parts[-1:]
    ctes = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(parts[:-1]))
    sql = (f"WITH {ctes} " if ctes else "") + parts[-1][0]
    params = tuple(v for _, p in parts for v in p)
    cur = _cursor(conn)
    try:
        cur.execute(_sql(conn, sql), params)
        return [tuple(r) for r in cur.fetchall()] if cur.description is not None else []
    finally:
        cur.close()


def in_list(values: Sequence[Any], column: str) -> tuple[str, list[Any]]:
    """``column IN (?, ...)`` for ``values`` (at least one) and its parameters. One
    placeholder per value on PostgreSQL too, not ``= ANY(array)``: psycopg prepares
    a statement it has run five times, and the server then keeps a generic plan
    for an IN list of that length, while for ``= ANY($1)`` it plans every call
    again (the candidate query: ~1 ms of the server's CPU planning, 0.25 ms
    prepared)."""
    if not values:
        raise ValueError("in_list needs at least one value")
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


class _RowStatement:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._processors: dict[str, list[Callable[[Any], Any] | None]] = {}

    def _procs(self, conn: Connection, columns: Sequence[Column[Any]]
               ) -> list[Callable[[Any], Any] | None]:
        name = conn.dialect.name
        got = self._processors.get(name)
        if got is None:
            # the dialect's own type (SQLite's DATETIME writes text), as Core binds it
            got = self._processors[name] = [
                c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                for c in columns]
        return got


def _default(column: Column[Any]) -> Callable[[], Any] | None:
    default = column.default
    if default is None:
        return None
    if getattr(default, "is_callable", False):
        fn = default.arg  # type: ignore[attr-defined]
        return lambda: fn(None)
    if getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    raise ValueError(f"{column}: a default RowInsert cannot apply")


class RowInsert(_RowStatement):
    """``INSERT INTO table (columns) VALUES (...) [RETURNING returning]`` of one row;
    columns not given take their Python-side default, as Core's ``insert()``."""

    def __init__(self, table: Table, columns: Sequence[str], *,
                 returning: str | None = None,
                 expressions: Mapping[str, str] | None = None) -> None:
        super().__init__(table)
        given = [c for c in columns if c not in (expressions or {})]
        self._defaults = {c.name: d for c in table.columns
                          if c.name not in given and c.name not in (expressions or {})
                          and (d := _default(c)) is not None}
        self.columns = [table.c[n] for n in [*given, *self._defaults]]
        exprs = dict(expressions or {})
        names = ", ".join([*(c.name for c in self.columns), *exprs])
        marks = ", ".join(["?" for _ in self.columns] + list(exprs.values()))
        self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})" + (
            f" RETURNING {returning}" if returning else "")
        self.returning = returning
        self._given = given

    def bind(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters of :attr:`sql` for the row ``values`` (for :func:`together`)."""
        row = [values.get(n) for n in self._given] + [d() for d in self._defaults.values()]
        return _params(self._procs(conn, self.columns), row)

    def __call__(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """Insert the row; return the ``returning`` column's value (else None)."""
        params = self.bind(conn, values)
        if self.returning is None:
            run(conn, self.sql, params)
            return None
        return fetch(conn, self.sql, params)[0][0]


class RowUpdate(_RowStatement):
    """``UPDATE table SET columns WHERE key = ?`` of one row."""

    def __init__(self, table: Table, columns: Sequence[str], key: str) -> None:
        super().__init__(table)
        self.columns = [table.c[n] for n in [*columns, key]]
        sets = ", ".join(f"{n} = ?" for n in columns)
        self.sql = f"UPDATE {table.name} SET {sets} WHERE {key} = ?"

    def bind(self, conn: Connection, values: Mapping[str, Any], key: Any) -> tuple[Any, ...]:
        """The parameters of :attr:`sql` (for :func:`together`)."""
        row = [values.get(c.name) for c in self.columns[:-1]] + [key]
        return _params(self._procs(conn, self.columns), row)

    def __call__(self, conn: Connection, values: Mapping[str, Any], key: Any) -> None:
        run(conn, self.sql, self.bind(conn, values, key))


def _params(procs: Sequence[Callable[[Any], Any] | None], row: Sequence[Any]
            ) -> tuple[Any, ...]:
    """The bound values: each column's processor applied; a ``str`` subclass (the
    vocabulary's StrEnum members) as a plain ``str``, as SQLAlchemy's String binds it."""
    out = []
    for p, v in zip(procs, row, strict=True):
        if p is not None:
            v = p(v)
        elif isinstance(v, str) and type(v) is not str:
            v = str(v)
        out.append(v)
    return tuple(out)
