"""QA sampling (质量抽检): what precision is in production, where there is no
truth file.

``open_sample`` scores the store's candidate pairs with the active models
(every pair the blocking rules generate, down to ``FLOOR``), splits them
into strata — customer type, merged by the machine or left apart, and
probability band — and draws a seeded random sample of up to ``per_band``
pairs from each. Each sampled pair becomes a QA review task
(``TaskType.QA_SAMPLE``); its answer is a steward decision on the pair
(``answer``: must-link = the same customer, cannot-link = not), which every
later batch obeys like any other decision.

``qa_report`` estimates per stratum the share of true matches among the
answered pairs with a Wilson 95 % interval (scipy): in a merged stratum that
is the precision of the machine's merges there, in an apart stratum the
share of matches the machine missed. Weighting each stratum by its
population gives the auto-merge precision and the estimated recall over the
scored pairs (pairs no blocking rule generates are outside the population).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sqlalchemy import Connection, Engine, insert, select

from ecif.bulk import in_batches, read_frame
from ecif.services.audit import audit
from ecif.services.base import WRITERS, Actor, require_role, unit_of_work
from ecif.services.decisions import make_decision
from ecif.services.model_registry import active_models
from ecif.services.tasks import add_members, close_task, require_task
from ecif.snapshot import STD_TABLE, load_records
from matching.engine.backend import DuckDBBackend
from matching.engine.config import EngineConfig
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.model import predict_pairs
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import DecisionScope, Judgement, TaskStatus, TaskType
from models.base import utcnow
from models.customer import Link
from models.db import require_current_schema
from models.decision import Decision
from models.qa import QAPair, QASample
from models.source_record import SourceRecord
from models.task import ReviewTask

__all__ = ["BANDS", "FLOOR", "scored_population", "open_sample", "answer", "qa_report",
           "wilson", "QAReport", "SampleSummary", "stratum_of", "band_of", "draw"]

log = logging.getLogger(__name__)

#: Probability band edges; a pair scored below ``FLOOR`` is outside the population.
BANDS = (0.01, 0.5, 0.9, 0.99, 0.999, 0.9999)
FLOOR = BANDS[0]
_FEATURES = {"P": ("persons", person_features_sql),
             "G": ("organisations", organisation_features_sql)}


def band_of(p: np.ndarray) -> np.ndarray:
    edges = np.array(BANDS)
    idx = np.searchsorted(edges, p, side="right") - 1
    hi = [*(f"{b:g}" for b in BANDS[1:]), "1"]
    labels = np.array([f"{lo:g}-{up}" for lo, up in zip(BANDS, hi, strict=True)])
    return labels[np.clip(idx, 0, len(BANDS) - 1)]


def stratum_of(customer_type: str, merged: bool, band: str) -> str:
    return f"{customer_type}/{'merged' if merged else 'apart'}/{band}"


def scored_population(engine: Engine, config: EngineConfig) -> pd.DataFrame:
    """Every candidate pair of the store scored at or above ``FLOOR`` by the active
    models, with whether the two records share a customer now: columns
    ``left_key``, ``right_key`` (left < right), ``customer_type``,
    ``match_probability``, ``merged``, ``band``, ``stratum``."""
    require_current_schema(engine)
    with engine.connect() as conn:
        models = active_models(conn)
        links = read_frame(conn, select(SourceRecord.record_key, Link.customer_no)
                           .join(Link, Link.record_id == SourceRecord.id))
    if not models:
        raise BadInput("the store has no trained model yet: run `ecif batch` first")
    frames = []
    with tempfile.TemporaryDirectory(prefix="ecif-qa-") as tmp:
        db = DuckDBBackend(temp_directory=Path(tmp))
        with engine.connect() as conn:
            load_records(conn, db)
        for ctype, (table, sql) in _FEATURES.items():
            if ctype not in models:
                continue
            db.create_table(table, sql(STD_TABLE))
            if db.count(table) < 2:
                continue
            scored = predict_pairs(db, table, models[ctype], FLOOR)
            got = db.fetch_arrow(f"SELECT unique_id_l, unique_id_r, match_probability "
                                 f"FROM {scored.physical_name}").to_pandas()
            scored.drop_table_from_database_and_remove_from_cache()
            got["customer_type"] = ctype
            frames.append(got)
    cols = ["left_key", "right_key", "customer_type", "match_probability", "merged", "band",
            "stratum"]
    if not frames:
        return pd.DataFrame(columns=cols)
    pairs = pd.concat(frames, ignore_index=True)
    a, b = pairs["unique_id_l"].astype(str), pairs["unique_id_r"].astype(str)
    pairs["left_key"], pairs["right_key"] = a.where(a < b, b), b.where(a < b, a)
    no = pd.Series(links["customer_no"].to_numpy(), index=links["record_key"].to_numpy())
    left_no = no.reindex(pairs["left_key"]).to_numpy()
    right_no = no.reindex(pairs["right_key"]).to_numpy()
    pairs["merged"] = pd.notna(left_no) & (left_no == right_no)
    pairs["band"] = band_of(pairs["match_probability"].to_numpy(float))
    pairs["stratum"] = [stratum_of(t, bool(m), band) for t, m, band in zip(
        pairs["customer_type"], pairs["merged"], pairs["band"], strict=True)]
    pairs = pairs.drop_duplicates(["left_key", "right_key"])
    return pairs[cols].sort_values(["stratum", "left_key", "right_key"], ignore_index=True)


@dataclass(frozen=True)
class SampleSummary:
    sample_id: int
    strata: list[dict[str, Any]]
    tasks: int


def draw(population: pd.DataFrame, per_band: int, seed: int) -> pd.DataFrame:
    """Up to ``per_band`` pairs of each stratum, drawn at random (seeded)."""
    rng = np.random.default_rng(seed)
    parts = []
    for _, group in population.groupby("stratum", sort=True):
        take = min(per_band, len(group))
        parts.append(group.iloc[np.sort(rng.choice(len(group), size=take, replace=False))])
    return pd.concat(parts, ignore_index=True) if parts else population.iloc[:0]


def open_sample(engine: Engine, config: EngineConfig, *, per_band: int, actor: Actor,
                seed: int = 1) -> SampleSummary:
    """Draw a stratified sample of the scored pairs and open a QA task for each."""
    if per_band < 1:
        raise BadInput(f"--per-band {per_band}: expected at least 1", {"per_band": "< 1"})
    population = scored_population(engine, config)
    if population.empty:
        raise BadInput("the store has no scored pairs to sample (too few records?)")
    sample = draw(population, per_band, seed)
    counts = population.groupby("stratum").size()
    taken = sample.groupby("stratum").size()
    first = population.drop_duplicates("stratum").set_index("stratum")
    strata = [{"stratum": s, "customer_type": str(first.at[s, "customer_type"]),
               "merged": bool(first.at[s, "merged"]), "band": str(first.at[s, "band"]),
               "population": int(n), "sampled": int(taken.get(s, 0))}
              for s, n in counts.items()]
    with unit_of_work(engine, "opening QA tasks") as conn:
        versions = {c: m.version for c, m in active_models(conn).items()}
        sample_id = int(conn.execute(insert(QASample).returning(QASample.id).values(
            created_at=utcnow(), created_by=actor.name, per_band=per_band, seed=seed,
            strata=strata, model_versions=versions)).scalar_one())
        record = _records(conn, set(sample["left_key"]) | set(sample["right_key"]))
        now = utcnow()
        members: list[tuple[int, int, str]] = []
        rows = []
        for pair in sample.to_dict("records"):
            task_id = int(conn.execute(insert(ReviewTask).returning(ReviewTask.id).values(
                task_type=TaskType.QA_SAMPLE, status=TaskStatus.OPEN,
                customer_type=pair["customer_type"], max_score=float(pair["match_probability"]),
                created_at=now, updated_at=now)).scalar_one())
            for key in (str(pair["left_key"]), str(pair["right_key"])):
                rid, no = record[key]
                members.append((task_id, rid, no))
            rows.append({"sample_id": sample_id, "stratum": pair["stratum"],
                         "customer_type": pair["customer_type"],
                         "merged": bool(pair["merged"]), "left_key": pair["left_key"],
                         "right_key": pair["right_key"],
                         "match_probability": float(pair["match_probability"]),
                         "task_id": task_id})
        add_members(conn, members)
        if rows:
            conn.execute(insert(QAPair), rows)
        audit(conn, actor, "qa_sample_opened", "qa_sample", sample_id,
              after={"per_band": per_band, "seed": seed, "tasks": len(rows),
                     "strata": {s["stratum"]: [s["population"], s["sampled"]]
                                for s in strata}})
    return SampleSummary(sample_id, strata, len(rows))


def _records(conn: Connection, keys: set[str]) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for part in in_batches(sorted(keys)):
        for r in conn.execute(select(SourceRecord.record_key, SourceRecord.id, Link.customer_no)
                              .join(Link, Link.record_id == SourceRecord.id)
                              .where(SourceRecord.record_key.in_(part))):
            out[r.record_key] = (int(r.id), str(r.customer_no))
    return out


def answer(conn: Connection, task_id: int, same: bool, *, actor: Actor,
           reason: str | None = None) -> int:
    """A steward's answer to a QA task: a decision on its pair (must-link when the
    two records are one customer, cannot-link when not), and the task closed.
    The next batch obeys the decision like any other."""
    require_role(actor, WRITERS, "answer QA tasks")
    task = require_task(conn, task_id, lock=True)
    if task.task_type != TaskType.QA_SAMPLE:
        raise BadInput(f"review task {task_id} is a {task.task_type} task, not a QA task")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"review task {task_id} is {task.status}")
    pair = conn.execute(select(QAPair).where(QAPair.task_id == task_id)).first()
    if pair is None:
        raise NotFound(f"review task {task_id} has no sampled pair")
    judgement = Judgement.MUST_LINK if same else Judgement.CANNOT_LINK
    decision = make_decision(conn, judgement, pair.left_key, pair.right_key, actor=actor,
                             reason=reason or "QA sample", task_id=task_id)
    close_task(conn, task_id, actor, f"QA answer: {judgement}")
    return decision


def wilson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (scipy)."""
    if trials == 0:
        return 0.0, 1.0
    ci = binomtest(successes, trials).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class QAReport:
    sample_id: int
    created_at: str
    model_versions: dict[str, str]
    #: per stratum: population, sampled, answered, matches, rate, low, high
    strata: list[dict[str, Any]]
    #: per customer type: weighted auto-merge precision and estimated recall
    overall: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.strata)

    def format(self) -> str:
        lines = [f"QA sample {self.sample_id} ({self.created_at}; models "
                 f"{', '.join(self.model_versions.values()) or 'none'})",
                 f"{'stratum':<26} {'pairs':>9} {'sampled':>7} {'answered':>8} "
                 f"{'matches':>7}  share of matches, Wilson 95 %"]
        for s in self.strata:
            rate = (f"{s['rate']:.4f}  [{s['low']:.4f}, {s['high']:.4f}]"
                    if s["answered"] else "no answers yet")
            what = "precision" if s["merged"] else "missed"
            lines.append(f"{s['stratum']:<26} {s['population']:>9,} {s['sampled']:>7} "
                         f"{s['answered']:>8} {s['matches']:>7}  {what} {rate}")
        for ctype, o in self.overall.items():
            p, r = o.get("precision"), o.get("recall")
            lines.append(
                f"{ctype}: auto-merge precision "
                + (f"{p:.4f} [{o['precision_low']:.4f}, {o['precision_high']:.4f}]"
                   if p is not None else "unknown")
                + "; estimated recall over scored pairs "
                + (f"{r:.4f} [{o['recall_low']:.4f}, {o['recall_high']:.4f}]"
                   if r is not None else "unknown")
                + (" (some strata unanswered)" if o.get("incomplete") else ""))
        return "\n".join(lines)


def _answers(conn: Connection, pairs: pd.DataFrame) -> pd.Series:
    """Per sampled pair: True (a live must-link), False (a live cannot-link), or
    NaN (no answer yet)."""
    judged: dict[tuple[str, str], str] = {}
    for part in in_batches(sorted(set(pairs["left_key"]))):
        for r in conn.execute(select(Decision.left_key, Decision.right_key, Decision.judgement)
                              .where(Decision.left_key.in_(part),
                                     Decision.scope == DecisionScope.RECORD,
                                     Decision.deleted_at.is_(None))):
            judged[(r.left_key, r.right_key)] = r.judgement
    out = [judged.get((a, b)) for a, b in zip(pairs["left_key"], pairs["right_key"],
                                              strict=True)]
    return pd.Series([None if j is None else j == Judgement.MUST_LINK for j in out],
                     index=pairs.index, dtype=object)


def qa_report(conn: Connection, sample_id: int | None = None) -> QAReport:
    """Precision per stratum of a QA sample (the newest without ``sample_id``)."""
    query = select(QASample)
    query = (query.where(QASample.id == sample_id) if sample_id is not None
             else query.order_by(QASample.id.desc()).limit(1))
    sample = conn.execute(query).first()
    if sample is None:
        raise NotFound("no QA sample" + (f" {sample_id}" if sample_id is not None else
                                          " yet: run `ecif qa sample --per-band N`"))
    pairs = read_frame(conn, select(QAPair.stratum, QAPair.left_key, QAPair.right_key)
                       .where(QAPair.sample_id == sample.id))
    pairs["answer"] = _answers(conn, pairs) if len(pairs) else pd.Series(dtype=object)
    rows = []
    for s in sample.strata:
        got = pairs.loc[pairs["stratum"].eq(s["stratum"]), "answer"].dropna()
        n, x = len(got), int(got.astype(bool).sum())
        lo, hi = wilson(x, n)
        rows.append({**s, "answered": n, "matches": x, "rate": x / n if n else None,
                     "low": lo, "high": hi})
    return QAReport(int(sample.id), f"{sample.created_at:%Y-%m-%d %H:%M}",
                    dict(sample.model_versions or {}), rows, _overall(rows))


def _overall(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per customer type, strata weighted by their population: the auto-merge
    precision and the recall over the scored pairs (the expected matches among
    the merged pairs over those among all), with bounds from the strata's
    Wilson bounds."""
    out: dict[str, dict[str, float | None]] = {}
    for ctype in sorted({r["customer_type"] for r in rows}):
        mine = [r for r in rows if r["customer_type"] == ctype]
        merged = [r for r in mine if r["merged"]]
        apart = [r for r in mine if not r["merged"]]

        def total(group: list[dict[str, Any]], key: str) -> float:
            return float(sum(r["population"] * (r[key] if r[key] is not None else 0.0)
                             for r in group))

        n_merged = sum(r["population"] for r in merged)
        entry: dict[str, float | None] = {
            "incomplete": float(any(r["answered"] == 0 for r in mine)),
            "precision": None, "precision_low": None, "precision_high": None,
            "recall": None, "recall_low": None, "recall_high": None}
        if n_merged and all(r["answered"] for r in merged):
            entry |= {"precision": total(merged, "rate") / n_merged,
                      "precision_low": total(merged, "low") / n_merged,
                      "precision_high": total(merged, "high") / n_merged}
        if merged and all(r["answered"] for r in mine):
            m, a = total(merged, "rate"), total(apart, "rate")
            m_lo, a_hi = total(merged, "low"), total(apart, "high")
            m_hi, a_lo = total(merged, "high"), total(apart, "low")
            entry |= {"recall": m / (m + a) if m + a else None,
                      "recall_low": m_lo / (m_lo + a_hi) if m_lo + a_hi else None,
                      "recall_high": m_hi / (m_hi + a_lo) if m_hi + a_lo else None}
        out[ctype] = entry
    return out
