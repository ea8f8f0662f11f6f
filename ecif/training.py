"""``ecif train`` on a store: train both models on the store's own records and
keep them as new versions of the store's models; with ``learn``, the live
steward decisions are labels too (:mod:`matching.engine.labels`)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select

from ecif.services.base import BATCH, unit_of_work
from ecif.services.decisions import live_decisions
from ecif.services.model_registry import save_version
from ecif.snapshot import STD_TABLE, export_records, load_records
from matching.engine.backend import Backend, DuckDBBackend
from matching.engine.config import EngineConfig
from matching.engine.engines import open_backend
from matching.engine.run import Decisions
from matching.engine.training import report_lines
from matching.engine.workflow import train_table
from matching.exceptions import BadInput
from matching.vocabulary import DecisionScope, EventType, Judgement
from models.db import require_current_schema
from models.decision import Decision
from models.event import MergeEvent

if TYPE_CHECKING:
    from matching.engine.spark import SparkSettings

__all__ = ["train_store", "store_labels", "over_merged"]


def store_labels(conn: Connection) -> Decisions:
    """The live steward decisions as record-key pairs (customer-scope ones
    expanded to a record of each customer)."""
    live = live_decisions(conn)
    pairs = list(zip(live["left"], live["right"], live["judgement"], strict=True))
    return Decisions(
        must_link=tuple((a, b) for a, b, j in pairs if j == Judgement.MUST_LINK),
        cannot_link=tuple((a, b) for a, b, j in pairs if j == Judgement.CANNOT_LINK))


def over_merged(conn: Connection) -> list[tuple[str, str]]:
    """Live record-scope cannot-links written by a split or a rollback: pairs the
    machine (or someone) had put together and a steward took apart."""
    rows = conn.execute(select(Decision.left_key, Decision.right_key)
                        .join(MergeEvent, MergeEvent.id == Decision.event_id)
                        .where(Decision.deleted_at.is_(None),
                               Decision.judgement == Judgement.CANNOT_LINK,
                               Decision.scope == DecisionScope.RECORD,
                               MergeEvent.event_type.in_([EventType.MANUAL_SPLIT,
                                                          EventType.ROLLBACK]))).all()
    return [(r.left_key, r.right_key) for r in rows]


def train_store(engine: Engine, config: EngineConfig,
                progress: Callable[[str], None] | None = None, *,
                learn: bool = False, spark: SparkSettings | None = None) -> Iterator[str]:
    """Train on every record of the store (on Spark with ``spark``); yield one line
    per model saved. With ``learn``, the live steward decisions are labels: m from
    the must-links (when a type has at least ``MIN_MUST_LINKS``) and the auto-merge
    threshold from the cannot-links. Decisions hold in every batch either way."""
    require_current_schema(engine)
    with tempfile.TemporaryDirectory(prefix="ecif-train-") as tmp, ExitStack() as stack:
        db = DuckDBBackend(temp_directory=Path(tmp))
        with engine.connect() as conn:
            total = load_records(conn, db)
            labels = store_labels(conn)
            split = over_merged(conn)
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
        models = train_table(train_db, STD_TABLE, config, save=False,
                             labels=labels if learn else None, over_merged=split)
    if not models:
        raise BadInput(f"the store's {total} records are too few to train on")
    with unit_of_work(engine, "saving trained models") as conn:
        for model in models.values():
            counts: dict[str, object] = {"records": model.records, "source": "ecif train"}
            if "labels" in model.plan:
                lab = model.plan["labels"]
                counts |= {"must_links": lab["must_links"], "cannot_links": lab["cannot_links"],
                           "m_from_labels": lab["m_from_labels"],
                           "auto_merge": lab["auto_merge_after"]}
            saved = save_version(conn, model, actor=BATCH, counts=counts)
            state = ("now the one in use" if saved.activated
                     else f"saved; pinned {saved.kept} stays in use")
            yield f"trained {model.version} on {model.records} records ({state})"
            yield from report_lines(model.version.split("-")[0], model.plan, model.calibration)
    if not learn:
        yield (f"steward decisions not used as labels ({len(labels.must_link)} must-links, "
               f"{len(labels.cannot_link)} cannot-links live; they hold in every batch "
               "anyway): `ecif train --learn-from-decisions` learns from them")
