"""`ecif ingest`: upsert by source key, newest updated_at wins, exceptions keep
rejected rows, every encoding, incremental pulls from a source database."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, create_engine

from ecif.ingest import ingest_database, ingest_files
from matching.exceptions import InputFileError
from matching.standardise.columns import INPUT_COLUMNS
from tests.store.helpers import person, query, write_csv

ZHANG = "110101199003070019"  # GB 11643-valid


def test_new_rows_are_stored_standardised_with_their_raw_row(store: Engine,
                                                             tmp_path: Path) -> None:
    f = write_csv(tmp_path / "a.csv", [
        person("CORE", "C1", "張偉", "11010119900307001x".upper(), mobile="+86 138-0013-8000"),
        person("CLAIM", "K1", "李娜", "", birth="1988年3月7日")])
    got = ingest_files(store, [f], workers=1)
    assert (got.read, got.new, got.rejected) == (2, 2, 0)
    rows = query(store, "SELECT record_key, name, id_number, id_valid, mobile, birth_date, raw, "
                        "version FROM source_record ORDER BY record_key")
    core = rows.set_index("record_key").loc["CORE:C1"]
    assert core["name"] == "张伟" and core["mobile"] == "13800138000"
    assert json.loads(core["raw"])["name"] == "張偉"  # as received
    assert rows.set_index("record_key").loc["CLAIM:K1", "birth_date"] == "1988-03-07"
    assert set(rows["version"]) == {1}


def test_newer_version_wins_and_the_old_one_is_kept(store: Engine, tmp_path: Path) -> None:
    ingest_files(store, [write_csv(tmp_path / "1.csv", [
        person("UW", "U1", "王芳", mobile="13900000001", updated="2026-11-01T09:00:00+08:00")])],
        workers=1)
    got = ingest_files(store, [write_csv(tmp_path / "2.csv", [
        person("UW", "U1", "王芳", mobile="13900000002", updated="2026-11-02T09:00:00+08:00")])],
        workers=1)
    assert (got.new, got.updated, got.stale) == (0, 1, 0)
    row = query(store, "SELECT id, mobile, version FROM source_record").iloc[0]
    assert (row["mobile"], row["version"]) == ("13900000002", 2)
    old = query(store, "SELECT version, raw FROM source_record_version WHERE record_id = :i",
                {"i": int(row["id"])})
    assert old["version"].tolist() == [1]
    assert json.loads(old["raw"].iloc[0])["mobile"] == "13900000001"


def test_older_resend_is_ignored_and_counted(store: Engine, tmp_path: Path) -> None:
    ingest_files(store, [write_csv(tmp_path / "1.csv", [
        person("UW", "U1", "王芳", mobile="13900000002", updated="2026-11-02T09:00:00+08:00")])],
        workers=1)
    # the same instant written in UTC, then a genuinely older version
    same = person("UW", "U1", "王芳", mobile="13900000002", updated="2026-11-02T01:00:00Z")
    older = person("UW", "U1", "王芳", mobile="13900000001", updated="2026-11-01T09:00:00+08:00")
    got = ingest_files(store, [write_csv(tmp_path / "2.csv", [older])], workers=1)
    assert (got.updated, got.stale) == (0, 1)
    got = ingest_files(store, [write_csv(tmp_path / "3.csv", [same])], workers=1)
    assert got.updated == 0 and got.stale + got.unchanged == 1
    assert query(store, "SELECT mobile FROM source_record")["mobile"].tolist() == ["13900000002"]


def test_identical_resend_is_unchanged(store: Engine, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "1.csv", [person("FIN", "F1", "赵敏", ZHANG)])
    ingest_files(store, [f], workers=1)
    got = ingest_files(store, [f], workers=1)
    assert (got.new, got.updated, got.unchanged, got.stale) == (0, 0, 1, 0)


def test_two_versions_in_one_file_keep_the_newest(store: Engine, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "1.csv", [
        person("TELE", "T1", "孙丽", mobile="13700000002", updated="2026-11-02T08:00:00"),
        person("TELE", "T1", "孙丽", mobile="13700000001", updated="2026-11-01T08:00:00")])
    got = ingest_files(store, [f], workers=1)
    assert (got.new, got.stale) == (1, 1)
    assert query(store, "SELECT mobile FROM source_record")["mobile"].tolist() == ["13700000002"]


def test_rejected_rows_land_in_exceptions_with_reason_and_raw_row(store: Engine,
                                                                 tmp_path: Path) -> None:
    f = write_csv(tmp_path / "bad.csv", [
        person("CORE", "C1", "周杰"),
        person("CORE", "C2", ""),                       # no name
        {**person("CORE", "", "吴刚")},                  # no source key
        {**person("CORE", "C4", "郑爽"), "customer_type": "X"}])  # unknown type
    got = ingest_files(store, [f], workers=1)
    assert (got.read, got.new, got.rejected) == (4, 1, 3)
    bad = query(store, "SELECT row_number, source_customer_id, reasons, raw, source_file "
                       "FROM exception_row ORDER BY row_number")
    assert bad["row_number"].tolist() == [2, 3, 4]
    assert all(r for r in bad["reasons"])
    assert "NAME" in bad["reasons"].iloc[0]
    assert json.loads(bad["raw"].iloc[2])["name"] == "郑爽"
    assert bad["source_file"].str.endswith("bad.csv").all()
    assert got.read == got.new + got.rejected  # nothing silently dropped


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_bom_and_gbk_files(store: Engine, tmp_path: Path, encoding: str) -> None:
    f = write_csv(tmp_path / "enc.csv", [person("CLAIM", "K9", "欧阳娜娜", ZHANG)], encoding)
    got = ingest_files(store, [f], encoding="gbk" if encoding == "gbk" else "utf-8", workers=1)
    assert got.new == 1
    assert query(store, "SELECT surname FROM source_record")["surname"].tolist() == ["欧阳"]


def test_parquet_file(store: Engine, tmp_path: Path) -> None:
    row = {c: person("WEB", "W1", "钱学森", ZHANG).get(c, "") for c in INPUT_COLUMNS}
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist([row]), path)
    assert ingest_files(store, [path], workers=1).new == 1


def test_missing_file_is_a_clear_error(store: Engine, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        ingest_files(store, [tmp_path / "nope.csv"], workers=1)


def test_incremental_pull_by_updated_at_watermark(store: Engine, tmp_path: Path) -> None:
    source = create_engine(f"sqlite:///{tmp_path / 'policy_admin.db'}")
    rows = [person("CORE", f"C{i}", name, updated=f"2026-11-0{i}T10:00:00")
            for i, name in enumerate(["甲一", "乙二", "丙三"], start=1)]
    frame = pd.DataFrame([{c: r.get(c, "") for c in INPUT_COLUMNS} for r in rows])
    frame.iloc[:2].to_sql("customers", source, index=False)
    url = f"sqlite:///{tmp_path / 'policy_admin.db'}"
    first = ingest_database(store, url, "customers", workers=1)
    assert first.new == 2
    frame.iloc[2:].to_sql("customers", source, index=False, if_exists="append")
    second = ingest_database(store, url, "customers", workers=1)
    assert (second.read, second.new) == (1, 1)  # only what changed since the watermark
    mark = query(store, "SELECT updated_at FROM source_watermark")["updated_at"].tolist()
    assert mark == ["2026-11-03T10:00:00"]
    source.dispose()


def _journal_during_load(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(journal_mode, synchronous) as the ingest's own connection saw them mid-load."""
    from ecif.upsert import Stage

    seen: list[tuple[str, int]] = []
    load = Stage.load

    def spy(self: Stage, chunk: object) -> object:
        run = self.conn.exec_driver_sql
        seen.append((run("PRAGMA journal_mode").scalar(), run("PRAGMA synchronous").scalar()))
        return load(self, chunk)  # type: ignore[arg-type]

    monkeypatch.setattr(Stage, "load", spy)
    return seen


def test_sqlite_initial_load_runs_with_a_rollback_journal_then_wal_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.db import init_db, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'ecif.db'}")
    init_db(engine)
    seen = _journal_during_load(monkeypatch)
    rows = [person("CORE", f"C{i}", "王芳", "") for i in range(3)]
    bad = write_csv(tmp_path / "bad.csv", rows)
    bad.write_bytes(bad.read_bytes() + b"CORE,C\xff\xfe,P,x\n")
    with pytest.raises(InputFileError, match="not valid utf-8"):  # fails before a chunk
        ingest_files(engine, [bad], workers=1)
    with engine.connect() as conn:  # back in WAL; the pooled connection keeps its stage
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    ingest_files(engine, [write_csv(tmp_path / "1.csv", rows)], workers=1)
    assert seen == [("delete", 2)]  # FULL: a rollback journal safe against power loss
    ingest_files(engine, [write_csv(tmp_path / "2.csv", [person("UW", "U1", "李娜", "")])],
                 workers=1)
    assert seen[1] == ("wal", 1)  # not an initial load: WAL, synchronous NORMAL
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    assert query(engine, "SELECT count(*) AS n FROM source_record")["n"].iloc[0] == 4
    engine.dispose()


def test_sqlite_initial_load_stays_in_wal_when_the_store_is_open_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from models.db import init_db, make_engine

    url = f"sqlite:///{tmp_path / 'ecif.db'}"
    engine = make_engine(url)
    init_db(engine)
    reader = create_engine(url)  # another process's connection, say the app's
    seen = _journal_during_load(monkeypatch)
    with reader.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM source_record").scalar()
        started = time.monotonic()
        got = ingest_files(engine, [write_csv(tmp_path / "1.csv", [
            person("CORE", "C1", "王芳", "")])], workers=1)
        assert time.monotonic() - started < 10  # asked once, did not wait 30 s for it
    assert got.new == 1 and seen == [("wal", 1)]
    reader.dispose()
    engine.dispose()
