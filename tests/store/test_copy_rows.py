"""PostgreSQL's stage is filled with COPY's text format: values holding what
that format reads specially (backslash, tab, line breaks, a literal \\N) are
stored as SQLite stores them, which binds each value as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecif.ingest import ingest_files
from models.db import init_db, make_engine
from models.source_record import STD_FIELDS
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.store.helpers import person, query, write_csv

_ODD = ["back\\slash", "tab\there", "line\nbreak", "carriage\rreturn", "\\N", "\\\\N",
        'quote " and \\"', "\\t not a tab", "end\\", "张\\三\t李"]


def _stored(url: str, path: Path) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    init_db(engine)
    ingest_files(engine, [path], workers=1)
    columns = ", ".join(("record_key", "raw", "updated_at", *STD_FIELDS))
    rows = query(engine, f"SELECT {columns} FROM source_record ORDER BY record_key")
    engine.dispose()
    return [tuple(r) for r in rows.itertuples(index=False)]


def test_odd_characters_stored_alike_on_both_databases(tmp_path: Path, pg_server: str) -> None:
    rows = [person("CORE", f"C{i}", f"王{i}", address=value, email=value, phone=value,
                   legal_rep=value) for i, value in enumerate(_ODD)]
    rows.append(person("CORE", "C\\1", "李\\四"))  # in the key too
    rows.append(person("CORE", "C-empty", "赵五", address=""))
    path = write_csv(tmp_path / "odd.csv", rows)
    on_sqlite = _stored(f"sqlite:///{tmp_path / 'odd.db'}", path)
    url, name = fresh_pg_database(pg_server)
    try:
        on_pg = _stored(url, path)
    finally:
        drop_pg_database(pg_server, name)
    assert len(on_sqlite) == len(rows)
    assert on_pg == on_sqlite
    assert any("\\" in str(v) for row in on_pg for v in row)  # not vacuous
    with pytest.raises(AssertionError):  # the oracle tells a difference apart
        assert [r[:1] + ("x",) + r[2:] for r in on_pg] == on_sqlite
