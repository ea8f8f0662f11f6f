"""The match stage reads the store's links through the columnar path
(ecif.snapshot.read_columnar): the same rows and values as row by row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from ecif.bulk import read_frame
from ecif.ingest import ingest_files
from ecif.snapshot import read_columnar
from tests.store.helpers import batch

NIGHTS = Path(__file__).parents[2] / "data" / "sample" / "nights"

#: the match stage's query (no column that may be NULL: see read_columnar)
LINKS = ("SELECT s.id AS record_id, s.record_key AS unique_id, l.customer_no, l.link_type, "
         "l.identity_key AS link_identity, s.identity_key, "
         "CASE WHEN s.ingest_id > 1 THEN 1 ELSE 0 END AS focus "
         "FROM link l JOIN source_record s ON s.id = l.record_id")

#: the merge stage's kind of query: text columns NULL where a record has no link yet
PRIOR = ("SELECT s.id AS record_id, {n} AS prior_no, {r} AS old_rule FROM source_record s "
         "LEFT JOIN link l ON l.record_id = s.id")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    a = a.sort_values("record_id", ignore_index=True).astype(object)
    b = b.sort_values("record_id", ignore_index=True).astype(object)
    assert a.where(a.notna(), None).values.tolist() == b.where(b.notna(), None).values.tolist()


def test_columnar_read_equals_row_by_row(store: Engine, sample_models: Path) -> None:
    with store.connect() as conn:  # an empty store: no rows, the same columns
        _same(read_columnar(conn, LINKS), read_frame(conn, LINKS))
    for night in ("day_001.csv", "day_002.csv"):
        ingest_files(store, [NIGHTS / night], workers=1)
        with store.connect() as conn:  # the second night's records are not linked yet
            got = read_columnar(conn, PRIOR.format(n="coalesce(l.customer_no, '')",
                                                   r="coalesce(l.rule, '')"),
                                empty_is_null=("prior_no", "old_rule"))
            want = read_frame(conn, PRIOR.format(n="l.customer_no", r="l.rule"))
        _same(got, want)
        batch(store, sample_models)
    assert want["prior_no"].isna().any() and want["prior_no"].notna().any()
    assert want["old_rule"].isna().any() and want["old_rule"].notna().any()
    with store.connect() as conn:
        got, want = read_columnar(conn, LINKS), read_frame(conn, LINKS)
    assert len(want) > 1000
    assert want["link_type"].nunique() > 1
    assert set(want["focus"]) == {0, 1}
    _same(got, want)
