"""A store batched before the API's index existed gets it from its next batch,
even a batch with nothing new in scope."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, delete, func, select

from ecif.ingest import ingest_files
from matching.config import DEFAULT_CONFIG_DIR
from models.realtime import BlockKey, TermFrequency
from tests.store.helpers import batch

NIGHT = Path(__file__).parents[2] / "data" / "sample" / "nights" / "day_001.csv"


def test_next_batch_rebuilds_a_missing_index(store: Engine, sample_models: Path) -> None:
    ingest_files(store, [NIGHT], config_dir=DEFAULT_CONFIG_DIR, workers=1)
    batch(store, sample_models)
    with store.begin() as conn:
        keys = conn.execute(select(func.count()).select_from(BlockKey)).scalar_one()
        records = conn.execute(select(func.count(func.distinct(BlockKey.record_id)))).scalar_one()
        assert keys > records > 1000
        conn.execute(delete(BlockKey))
        conn.execute(delete(TermFrequency))
    batch(store, sample_models)  # nothing new in scope
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BlockKey)).scalar_one() == keys
        assert conn.execute(select(func.count()).select_from(TermFrequency)).scalar_one() > 0
