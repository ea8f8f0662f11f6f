"""Edges and record ids as Arrow/numpy (matching/engine/edges.py) and the memory-mapped
fetch of a Splink result (DuckDBBackend.fetch_result), against plain-Python oracles."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from matching.engine.backend import DuckDBBackend
from matching.engine.cluster import _codes
from matching.engine.edges import EdgeParts, RecordIds, RuleNames, exclusive_codes

VALUES = ["110101199003071234", None, "", "  ", "\u3000", "\x1c", "\t\n", "a b", "110101199003071234",
          "x", "-", "  x  ", "ß", "x", None, "-"]


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Both label the same records null (negative) and the same pairs equal."""
    if not np.array_equal(a < 0, b < 0):
        return False
    eq_a = (a[:, None] == a[None, :]) & (a[:, None] >= 0)
    eq_b = (b[:, None] == b[None, :]) & (b[:, None] >= 0)
    return bool(np.array_equal(eq_a, eq_b))


def test_exclusive_codes_are_what_clustering_reads_from_strings() -> None:
    oracle = np.asarray(_codes("x", np.array(VALUES, dtype=object), len(VALUES)))
    codes = exclusive_codes(pa.chunked_array([pa.array(VALUES[:7]), pa.array(VALUES[7:])]))
    assert codes.dtype == np.int64
    assert _same_partition(codes, oracle)
    blank = [v is None or not v.strip() for v in VALUES]
    assert ((codes < 0) == np.array(blank)).all()


def test_record_ids_give_positions_in_sorted_order_and_name_strangers() -> None:
    ids = sorted(["CORE:2", "UW:10", "CORE:10", "网站:1", "API:x"])
    record_ids = RecordIds(pa.chunked_array([pa.array(ids[:2]), pa.array(ids[2:])]))
    asked = ["UW:10", "网站:1", "CORE:10", "CORE:10"]
    assert record_ids.positions(asked).tolist() == [ids.index(a) for a in asked]
    assert record_ids.positions(pa.array(asked)).dtype == np.int64
    assert len(record_ids.positions([])) == 0
    with pytest.raises(ValueError, match="CORE:3"):
        record_ids.positions(["CORE:2", "CORE:3"])


def test_rule_rank_sorts_like_the_names() -> None:
    rules = RuleNames()
    names = ["steward", "existing", "same_id", "model:p-1", "same_id", "Same_mobile"]
    codes = np.array([rules.code(n) for n in names])
    oracle, _ = pd.factorize(pd.Series(names), sort=True)
    assert np.array_equal(rules.sort_rank()[codes], oracle)
    assert rules.as_objects(codes).tolist() == names


def test_edge_parts_resolve_in_the_order_added() -> None:
    ids = RecordIds(pa.array(["a", "b", "c", "d"]))
    parts = EdgeParts()
    parts.add(["a", "c"], ["b", "d"], 1.0, 0, 3)
    parts.add(pa.chunked_array([["d"]]), pa.chunked_array([["a"]]), np.array([0.7]), 2,
              np.array([5]))
    edges = parts.resolve(ids)
    assert edges.left.tolist() == [0, 2, 3]
    assert edges.right.tolist() == [1, 3, 0]
    assert edges.score.tolist() == [1.0, 1.0, 0.7]
    assert edges.tier.tolist() == [0, 0, 2]
    assert edges.rule.tolist() == [3, 3, 5]
    assert len(EdgeParts().resolve(ids)) == 0


def test_fetch_result_is_the_whole_table_and_drops_it(tmp_path: object) -> None:
    db = DuckDBBackend(threads=2)
    db.con.execute(
        "CREATE TABLE scored AS SELECT i AS n, 'CORE:' || i AS unique_id_l, "
        "CASE WHEN i % 7 = 0 THEN NULL ELSE i / 3.0 END AS match_probability, "
        "CAST(i % 5 AS INTEGER) AS gamma_x, CASE WHEN i % 3 = 0 THEN NULL ELSE '名' || i END "
        "AS name_l FROM range(250123) t(i)")
    oracle = db.con.sql("SELECT * FROM scored").to_arrow_table()
    tables = "SELECT table_name FROM duckdb_tables()"
    table = db.fetch_result(db.register("scored"))
    assert "scored" in {r[0] for r in db.con.sql(tables).fetchall()}  # not Splink's: kept
    frame = db.register("scored")
    frame.created_by_splink = True  # as a prediction is
    table = db.fetch_result(frame)
    gc.collect()
    assert table.schema.equals(oracle.schema)
    assert table.sort_by("n").equals(oracle.sort_by("n"))
    assert "scored" not in {r[0] for r in db.con.sql(tables).fetchall()}
    db.con.execute("CREATE TABLE none_scored AS SELECT 1.5 AS p WHERE false")
    none = db.fetch_result(db.register("none_scored"))
    assert none.num_rows == 0 and none.schema.names == ["p"]


def test_ids_of_any_string_type_meet() -> None:
    ids = RecordIds(pa.chunked_array([pa.array(["a", "b"], pa.large_string())]))
    parts = EdgeParts()
    parts.add(pa.array(["b"], pa.string()), pa.chunked_array([pa.array(["a"], pa.large_string())]),
              0.5, 2, 0)
    edges = parts.resolve(ids)
    assert (edges.left.tolist(), edges.right.tolist()) == ([1], [0])
    assert ids.positions(pa.array(["a"], pa.string())).tolist() == [0]
