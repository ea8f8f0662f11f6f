"""The batch's set-based build of the API's index gives exactly the keys the API
computes one record at a time (realtime_index.record_keys over
matching.realtime.blocking's block_keys and rule_keys, the oracle),
and the first night's whole-index write leaves the same rows and the key index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, delete, insert, inspect, select

from ecif.bulk import read_frame
from ecif.ingest import ingest_files
from ecif.services import realtime_index
from ecif.services.realtime_index import (
    index_frames,
    index_is_current,
    record_keys,
    weak_index_rules,
    write_index,
)
from matching.engine.backend import DuckDBBackend
from matching.engine.config import load_engine_config
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.workflow import STD_TABLE, load_sources
from matching.generator.latin import generate_latin
from matching.realtime.blocking import rule_keys
from models.realtime import BlockKey

SAMPLE = Path(__file__).parents[2] / "data" / "sample" / "day_001.csv"
CONFIG = load_engine_config()
WEAK = weak_index_rules(CONFIG)


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> DuckDBBackend:
    """Feature tables of the Chinese sample and a Latin-script set (whose name and
    address columns the Chinese one leaves empty), half the records in focus."""
    work = tmp_path_factory.mktemp("index")
    generate_latin(work / "latin", records=300, seed=5)
    db = DuckDBBackend()
    load_sources(db, [SAMPLE, work / "latin" / "day_001.csv"], work)
    db.con.execute(f"ALTER TABLE {STD_TABLE} ADD COLUMN _focus INTEGER")
    db.con.execute(f"UPDATE {STD_TABLE} SET _focus = CASE WHEN hash(source_customer_id) % 2 "
                   "= 0 THEN 1 ELSE 0 END")
    db.create_table("persons", person_features_sql(STD_TABLE, ("_focus",)))
    db.create_table("organisations", organisation_features_sql(STD_TABLE, ("_focus",)))
    return db


def _ids(db: DuckDBBackend) -> pd.Series:
    keys = db.fetch_arrow(f"SELECT source_system || ':' || source_customer_id FROM "
                          f"{STD_TABLE} ORDER BY 1").column(0).to_pylist()
    return pd.Series(range(1, len(keys) + 1), index=keys)


def _oracle(db: DuckDBBackend, ids: pd.Series, focus: str | None) -> set[tuple[int, int]]:
    out = set()
    for ctype, table in (("P", "persons"), ("G", "organisations")):
        where = f"WHERE {focus} = 1" if focus else ""
        for row in db.fetch_arrow(f"SELECT * FROM {table} {where}").to_pylist():
            out |= {(int(ids[row["unique_id"]]), k) for k in record_keys(row, ctype, WEAK)}
    return out


@pytest.mark.parametrize("focus", [None, "_focus"])
def test_keys_are_the_ones_the_api_computes(features: DuckDBBackend, focus: str | None) -> None:
    ids = _ids(features)
    got = index_frames(features, ids, focus, CONFIG)
    want = _oracle(features, ids, focus)
    rows = list(zip(got.keys["record_id"].tolist(), got.keys["key"].tolist(), strict=True))
    assert len(rows) == len(set(rows))
    assert set(rows) == want
    assert len(want) > 2000
    # the weak rule no candidate rule covers (legal_rep + core_prefix) has keys too
    assert WEAK["G"] == (("legal_rep", "core_prefix"),)
    orgs = features.fetch_arrow("SELECT * FROM organisations"
                                + (" WHERE _focus = 1" if focus else "")).to_pylist()
    weak = {k for row in orgs for k in rule_keys(row, "G", WEAK["G"])}
    assert len(weak) > 10 and weak <= {k for _, k in rows}
    # the Latin-only rules give keys too (name words, address parts)
    assert features.fetch_arrow("SELECT count(*) FROM persons WHERE name_lo IS NOT NULL"
                                ).column(0)[0].as_py() > 0
    in_focus = features.fetch_arrow(
        "SELECT unique_id FROM persons" + (" WHERE _focus = 1" if focus else "")
        + " UNION ALL SELECT unique_id FROM organisations"
        + (" WHERE _focus = 1" if focus else "")).column(0).to_pylist()
    assert sorted(got.refreshed) == sorted(int(ids[k]) for k in in_focus)


@pytest.mark.parametrize("rebuild_min", [0, 10**9])
def test_whole_index_write_keeps_rows_and_key_index(
        store: Engine, features: DuckDBBackend, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, rebuild_min: int) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("the rebuild path is SQLite's")
    monkeypatch.setattr(realtime_index, "_REBUILD_MIN", rebuild_min)
    generate_latin(tmp_path, records=300, seed=5)
    ingest_files(store, [SAMPLE, tmp_path / "day_001.csv"], workers=1)
    with store.connect() as conn:
        stored = read_frame(conn, "SELECT record_key, id FROM source_record")
    ids = pd.Series(stored["id"].to_numpy(), index=stored["record_key"].to_numpy())
    frames = index_frames(features, ids, None, CONFIG)
    with store.connect() as conn:
        assert not index_is_current(conn, CONFIG)
    with store.begin() as conn:
        write_index(conn, frames)
    with store.connect() as conn:  # built for these rules; not for others
        assert index_is_current(conn, CONFIG)
        assert not index_is_current(conn, _without_weak_rules(CONFIG))
    with store.connect() as conn:
        got = read_frame(conn, select(BlockKey.record_id, BlockKey.key))
    assert set(zip(got["record_id"], got["key"], strict=True)) == _oracle(features, ids, None)
    # a later night rewrites the keys of its records only
    night = index_frames(features, ids, "_focus", CONFIG)
    with store.begin() as conn:
        conn.execute(delete(BlockKey).where(BlockKey.record_id.in_(night.refreshed[:50])))
        conn.execute(insert(BlockKey).values(record_id=night.refreshed[0], key=12345))
        write_index(conn, night)
    with store.connect() as conn:
        again = read_frame(conn, select(BlockKey.record_id, BlockKey.key))
    assert set(zip(again["record_id"], again["key"], strict=True)) == _oracle(
        features, ids, None)
    names = {i["name"] for i in inspect(store).get_indexes("block_key")}
    assert "ix_block_key_key" in names


def _without_weak_rules(config: Any) -> Any:
    from dataclasses import replace

    return replace(config, organisation=replace(config.organisation, weak_rules=()))


def _org(cid: str, name: str, legal_rep: str, address: str) -> dict[str, str]:
    from tests.store.helpers import org

    return {**org("CORE", cid, name), "legal_rep": legal_rep, "address": address}


def test_match_check_finds_the_weak_rule_no_candidate_rule_covers(
        store: Engine, tmp_path: Path, sample_models: Path) -> None:
    """Two organisations of one legal representative whose names begin alike, in two
    cities, share no candidate key: only the weak rule ``legal_rep`` + ``core_prefix``
    groups them, and the batch makes a task of them. The match-check must answer
    ``possible`` for such a record as the batch would (it answered ``new``: the rule
    was skipped, ``core_prefix`` being neither stored nor under any candidate key),
    and ``new`` when the legal representative differs."""
    from ecif.services.matchcheck import Decision, Matcher
    from matching.config import load_code_maps
    from matching.standardise.record import standardise_record
    from tests.store.helpers import batch, query, write_csv

    rows = [_org("G1", "华信科技有限公司", "王建国", "北京市海淀区中关村大街1号"),
            _org("G2", "华信贸易有限公司", "王建国", "上海市浦东新区世纪大道100号")]
    ingest_files(store, [write_csv(tmp_path / "n1.csv", rows)], workers=1)
    batch(store, sample_models)
    tasks = query(store, "SELECT t.id, s.record_key FROM review_task t JOIN task_member m "
                         "ON m.task_id = t.id JOIN source_record s ON s.id = m.record_id")
    assert sorted(tasks["record_key"]) == ["CORE:G1", "CORE:G2"]  # the batch's task
    links = query(store, "SELECT count(DISTINCT customer_no) AS n FROM link")
    assert links["n"].iloc[0] == 2  # not merged: a question for a steward

    matcher = Matcher(CONFIG, load_code_maps())
    asked = {"G3": ("华信物流有限公司", "王建国", "广州市天河区天河路385号"),
             "G4": ("华信物流有限公司", "李志强", "广州市天河区天河路385号")}
    with store.connect() as conn:
        got = {}
        for cid, (name, rep, address) in asked.items():
            record = standardise_record(_org(cid, name, rep, address), matcher.codes).record
            got[cid] = matcher.check(conn, record).decision
        # a stored record asked about as if new: its group without itself
        g2 = standardise_record(rows[1], matcher.codes).record
        got["G2"] = matcher.check(conn, g2, exclude_key="CORE:G2").decision
    assert got == {"G3": Decision.POSSIBLE, "G4": Decision.NEW, "G2": Decision.POSSIBLE}
