"""``ecif train`` on a store: train both models on the store's own records and
keep them as new versions of the store's models."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from ecif.services.base import BATCH, unit_of_work
from ecif.services.model_registry import save_version
from ecif.snapshot import STD_TABLE, export_records, load_records
from matching.engine.backend import Backend, DuckDBBackend
from matching.engine.config import EngineConfig
from matching.engine.engines import open_backend
from matching.engine.training import report_lines
from matching.engine.workflow import train_table
from matching.exceptions import BadInput
from models.db import require_current_schema

if TYPE_CHECKING:
    from matching.engine.spark import SparkSettings

__all__ = ["train_store"]


def train_store(engine: Engine, config: EngineConfig,
                progress: Callable[[str], None] | None = None,
                spark: SparkSettings | None = None) -> Iterator[str]:
    """Train on every record of the store (on Spark with ``spark``); yield one
    line per model saved."""
    require_current_schema(engine)
    with tempfile.TemporaryDirectory(prefix="ecif-train-") as tmp, ExitStack() as stack:
        db = DuckDBBackend(temp_directory=Path(tmp))
        with engine.connect() as conn:
            total = load_records(conn, db)
        if total == 0:
            raise BadInput("the store holds no records to train on; run `ecif ingest` first")
        if progress:
            progress(f"training on the store's {total} records"
                     + (f" on Spark ({spark.master})" if spark else ""))
        train_db: Backend = db
        if spark is not None:
            train_db = stack.enter_context(open_backend(spark, records=total,
                                                        focus_records=total))
            export_records(db, train_db, Path(spark.staging_dir or tmp))
        models = train_table(train_db, STD_TABLE, config, save=False)
    if not models:
        raise BadInput(f"the store's {total} records are too few to train on")
    with unit_of_work(engine, "saving trained models") as conn:
        for model in models.values():
            saved = save_version(conn, model, actor=BATCH,
                                 counts={"records": model.records, "source": "ecif train"})
            state = ("now the one in use" if saved.activated
                     else f"saved; pinned {saved.kept} stays in use")
            yield f"trained {model.version} on {model.records} records ({state})"
            yield from report_lines(model.version.split("-")[0], model.plan, model.calibration)
