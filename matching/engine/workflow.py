"""File-to-result workflows behind ``ecif train``, ``ecif match`` and ``ecif eval``.

Source files are standardised (the same code as ``ecif standardise``), loaded
into the backend, reduced to the newest version of each source record, then
trained on or matched.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from matching.config import DEFAULT_CONFIG_DIR
from matching.engine.backend import Backend, DuckDBBackend
from matching.engine.config import EngineConfig, load_engine_config
from matching.engine.evaluate import Metrics, after_perfect_review, evaluate_by_type, share_in_tasks
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.model import TrainedModel, load_model, model_path, save_model, train_model
from matching.engine.run import Decisions, MatchResult, run_matching
from matching.pipeline import StandardiseSummary, standardise_file
from matching.standardise.columns import OUTPUT_COLUMNS

__all__ = ["load_sources", "train_files", "train_table", "saved_models", "match_files",
           "evaluate_files", "EvalReport", "read_decisions"]

log = logging.getLogger(__name__)

STD_TABLE = "std_records"


def load_sources(backend: Backend, files: Sequence[Path], workdir: Path, *,
                 encoding: str = "utf-8", config_dir: Path = DEFAULT_CONFIG_DIR,
                 workers: int | None = None) -> StandardiseSummary:
    """Standardise ``files`` into the backend table ``std_records``: the newest
    version (by updated_at) of each source record. Rejected rows are written
    next to the standardised files in ``workdir``."""
    if not files:
        raise ValueError("no source files given")
    total = StandardiseSummary()
    parts = []
    for i, path in enumerate(files):
        out = workdir / f"std_{i:03d}.csv"
        summary = standardise_file(path, out, workdir / f"rejects_{i:03d}.csv",
                                   encoding=encoding, config_dir=config_dir, workers=workers)
        for name in ("read", "admitted", "persons", "organisations", "rejected"):
            setattr(total, name, getattr(total, name) + getattr(summary, name))
        total.issue_counts.update(summary.issue_counts)
        total.reject_counts.update(summary.reject_counts)
        backend.load_csv(f"std_part_{i:03d}", out)
        parts.append(f"SELECT {', '.join(OUTPUT_COLUMNS)}, {i} AS _file FROM std_part_{i:03d}")
    cols = ", ".join(OUTPUT_COLUMNS)
    union = " UNION ALL ".join(parts)
    backend.create_table(STD_TABLE, (
        f"SELECT {cols} FROM (SELECT {cols}, row_number() OVER ("
        "PARTITION BY source_system, source_customer_id "
        "ORDER BY updated_at DESC NULLS LAST, _file DESC) AS _rank "
        f"FROM ({union}) u) v WHERE _rank = 1"
    ))
    return total


def train_files(files: Sequence[Path], *, config_dir: Path = DEFAULT_CONFIG_DIR,
                encoding: str = "utf-8", config: EngineConfig | None = None,
                backend: Backend | None = None, labels: Decisions | None = None
                ) -> dict[str, TrainedModel]:
    """Train both models on ``files`` and save them under the configured model_dir
    (with ``labels``, learning from steward decisions too)."""
    config = config or load_engine_config(config_dir)
    db: Backend = backend or DuckDBBackend()
    with tempfile.TemporaryDirectory(prefix="ecif-train-") as tmp:
        load_sources(db, files, Path(tmp), encoding=encoding, config_dir=config_dir)
        return train_table(db, STD_TABLE, config, labels=labels)


def train_table(db: Backend, std_table: str, config: EngineConfig,
                types: Sequence[str] = ("P", "G"), *, save: bool = True,
                labels: Decisions | None = None,
                over_merged: Sequence[tuple[str, str]] | None = None
                ) -> dict[str, TrainedModel]:
    """Train the models of ``types`` on a backend table of standardised records;
    with ``save``, write them under the configured model_dir (the file workflows;
    a store keeps its models as rows instead). With ``labels`` (steward
    decisions), learn from them too (:mod:`matching.engine.labels`)."""
    models: dict[str, TrainedModel] = {}
    for ctype, table, sql in (("P", "persons", person_features_sql),
                              ("G", "organisations", organisation_features_sql)):
        if ctype not in types:
            continue
        db.create_table(table, sql(std_table))
        n = db.count(table)
        if n < 2:
            (log.warning if n else log.info)(
                "%d %s records: too few to train on; model not updated", n, table)
            continue
        model = train_model(db, table, ctype, config.for_type(ctype),
                            labels=None if labels is None
                            else (labels.must_link, labels.cannot_link),
                            over_merged=over_merged)
        if save:
            save_model(model, model_path(config.model_dir, ctype))
        models[ctype] = model
    return models


_DECISION_COLUMNS = ("source_system_l", "source_customer_id_l", "source_system_r",
                     "source_customer_id_r", "judgement")


def read_decisions(path: Path) -> Decisions:
    """Steward decisions from a CSV: ``source_system_l, source_customer_id_l,
    source_system_r, source_customer_id_r, judgement`` (``must_link`` or
    ``cannot_link``). The store keeps them append-only; this reads an export."""
    from matching.exceptions import InputFileError

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in _DECISION_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(f"{path}: missing column(s) {', '.join(missing)}")
    bad = frame[~frame["judgement"].isin(["must_link", "cannot_link"])]
    if len(bad):
        raise InputFileError(f"{path}: judgement {bad['judgement'].iloc[0]!r} on row "
                             f"{bad.index[0] + 2}; expected must_link or cannot_link")
    left = frame["source_system_l"] + ":" + frame["source_customer_id_l"]
    right = frame["source_system_r"] + ":" + frame["source_customer_id_r"]
    pairs = list(zip(left, right, frame["judgement"], strict=True))
    return Decisions(
        must_link=tuple((a, b) for a, b, j in pairs if j == "must_link"),
        cannot_link=tuple((a, b) for a, b, j in pairs if j == "cannot_link"),
    )


def saved_models(config: EngineConfig) -> dict[str, TrainedModel]:
    """The saved models that exist; run_matching complains if one it needs is missing."""
    return {c: load_model(model_path(config.model_dir, c)) for c in ("P", "G")
            if model_path(config.model_dir, c).exists()}


def match_files(files: Sequence[Path], *, config_dir: Path = DEFAULT_CONFIG_DIR,
                encoding: str = "utf-8", config: EngineConfig | None = None,
                decisions: Decisions | None = None, backend: Backend | None = None,
                workdir: Path | None = None) -> MatchResult:
    """Standardise and match ``files`` with the saved models."""
    config = config or load_engine_config(config_dir)
    models = saved_models(config)
    db: Backend = backend or DuckDBBackend()
    with tempfile.TemporaryDirectory(prefix="ecif-match-") as tmp:
        started = time.perf_counter()
        load_sources(db, files, workdir or Path(tmp), encoding=encoding,
                     config_dir=config_dir)
        standardise_s = time.perf_counter() - started
        result = run_matching(db, STD_TABLE, config, models, decisions)
        result.timings["standardise"] = standardise_s
        return result


@dataclass(frozen=True)
class EvalReport:
    auto: dict[str, Metrics]
    reviewed: dict[str, Metrics]
    share_in_tasks: float
    result: MatchResult

    def format(self) -> str:
        lines = []
        for title, block in (("auto-merges alone", self.auto),
                             ("auto-merges + perfect review of open tasks", self.reviewed)):
            for ctype, label in (("P", "persons"), ("G", "organisations"), ("all", "all")):
                m = block[ctype]
                lines.append(
                    f"{title:<44} {label:<14} precision {m.precision:.4f}  recall {m.recall:.4f}"
                    f"  F1 {m.f1:.4f}  B3-F1 {m.bcubed_f1:.4f}  exact entities "
                    f"{m.exact_entity_share:.3f}  ({m.records} records, {m.true_pairs} true pairs)"
                )
        counts = self.result.counts
        lines.append(f"records in open tasks: {counts.get('records_in_tasks', 0)} "
                     f"({self.share_in_tasks:.2%}) in {counts.get('tasks', 0)} tasks")
        lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        lines.append("timings: " + ", ".join(f"{k} {v:.1f}s"
                                             for k, v in self.result.timings.items()))
        lines.append("model versions: " + ", ".join(self.result.model_versions.values()))
        return "\n".join(lines)


def evaluate_files(files: Sequence[Path], truth: pd.DataFrame, **kwargs: object) -> EvalReport:
    """Match ``files`` and score the result against ``truth``
    (source_system, source_customer_id, entity_id)."""
    result = match_files(files, **kwargs)  # type: ignore[arg-type]
    return evaluate_result(result, truth)


def evaluate_result(result: MatchResult, truth: pd.DataFrame) -> EvalReport:
    rec = result.records
    truth_ids = truth["source_system"].astype(str) + ":" + truth["source_customer_id"].astype(str)
    truth_s = pd.Series(truth["entity_id"].astype(str).to_numpy(), index=truth_ids)
    truth_s = truth_s[~truth_s.index.duplicated()]
    pred = pd.Series(rec["cluster_id"].to_numpy(), index=rec["unique_id"])
    ctype = pd.Series(rec["customer_type"].to_numpy(), index=rec["unique_id"])
    truth_s = truth_s.reindex(pred.index)  # rejected rows are not customers: score the admitted
    if truth_s.isna().any():
        missing = truth_s[truth_s.isna()].index[:3].tolist()
        raise ValueError(f"truth file lacks records that were matched, e.g. {missing}")
    tasks = result.tasks.rename(columns={"unique_id": "record_id"})[["task_id", "record_id"]]
    reviewed = after_perfect_review(pred, tasks, truth_s)
    return EvalReport(
        auto=evaluate_by_type(pred, truth_s, ctype),
        reviewed=evaluate_by_type(reviewed, truth_s, ctype),
        share_in_tasks=share_in_tasks(tasks, len(pred)),
        result=result,
    )
