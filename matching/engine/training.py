"""Choosing, per deployment, what a model is trained and blocked on.

The configuration lists candidates; the data decides which are used:

- **fields**: the share of records holding each column (``fill``); a rule
  whose columns are held by fewer than ``min_fill`` of the records is left out;
- **prior rules** (deterministic rules for the probability that two random
  records match): every candidate whose columns are filled and which finds at
  least one pair; none at all is a :class:`TrainingError`, never Splink's
  ``log2(0)``;
- **EM blocks**: candidates in order, each kept when its columns are filled,
  it yields at least ``em_min_pairs`` comparisons (on a small store where
  none does: at least one) and it lets EM estimate a comparison no block
  kept so far can (Splink estimates no comparison whose columns the block
  uses); a block over ``em_max_pairs`` is sampled to that size; none at all
  is a :class:`TrainingError`;
- **blocking rules for prediction**: candidates whose columns are filled,
  counted with Splink's ``count_comparisons_from_blocking_rules``; a rule
  adding more than ``max_comparisons_per_record`` comparisons per record is
  left out (a skewed value would flood scoring).

Pair counts for the prior and EM rules are exact and cheap (the sum of
C(n, 2) over the groups of equal values, one GROUP BY); the blocking rules'
marginal counts come from Splink (exact up to 200,000 records, else from
Splink's record sample: a share of sqrt(200,000 / records) on each side).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from splink import block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from matching.engine.backend import Backend
from matching.engine.config import Training
from matching.engine.labels import LabelReport
from matching.exceptions import TrainingError

__all__ = ["RuleCheck", "TrainingPlan", "plan_training", "comparison_columns", "fill_shares",
           "probe_rules", "report_lines"]

_SIDE_COLUMN = re.compile(r"\b([a-z_][a-z0-9_]*)_[lr]\b")
#: Up to this many records, blocking counts are exact; above, Splink samples.
_EXACT_COUNT_MAX = 200_000


@dataclass(frozen=True)
class RuleCheck:
    """One candidate rule and what the data said about it."""

    columns: tuple[str, ...]
    fill: float              # share of records holding every column of the rule
    pairs: int               # comparisons it yields (marginal, for blocking rules)
    used: bool
    why: str = ""            # why not used: "columns empty", "no pair", ...


@dataclass(frozen=True)
class TrainingPlan:
    records: int
    fill: dict[str, float]
    prior_rules: tuple[RuleCheck, ...]
    em_blocks: tuple[RuleCheck, ...]
    blocking: tuple[RuleCheck, ...]
    #: comparisons no chosen EM block can estimate (their m stays at Splink's default)
    not_estimated: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def used(self, which: str) -> list[tuple[str, ...]]:
        return [r.columns for r in getattr(self, which) if r.used]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(raw: dict[str, Any]) -> TrainingPlan:
        def checks(items: Sequence[dict[str, Any]]) -> tuple[RuleCheck, ...]:
            return tuple(RuleCheck(tuple(i["columns"]), float(i["fill"]), int(i["pairs"]),
                                   bool(i["used"]), str(i.get("why", ""))) for i in items)
        return TrainingPlan(int(raw["records"]), dict(raw["fill"]),
                            checks(raw["prior_rules"]), checks(raw["em_blocks"]),
                            checks(raw["blocking"]), tuple(raw.get("not_estimated", ())),
                            dict(raw.get("extra", {})))


def fill_shares(backend: Backend, table: str, columns: Sequence[str]) -> dict[str, float]:
    """The share of ``table``'s records holding a value in each column."""
    cols = sorted(set(columns))
    if not cols:
        return {}
    sql = ", ".join(f"count({c}) AS {c}" for c in cols)
    row = backend.fetch_arrow(f"SELECT count(*) AS _n, {sql} FROM {table}").to_pylist()[0]
    n = row.pop("_n") or 1
    return {c: row[c] / n for c in cols}


def _rule_fill(fill: dict[str, float], cols: Sequence[str]) -> float:
    return min((fill.get(c, 0.0) for c in cols), default=0.0)


def _pair_count(backend: Backend, table: str, cols: Sequence[str]) -> int:
    """Pairs with every column of ``cols`` equal and present: sum of C(n, 2) per group."""
    present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    sql = (f"SELECT coalesce(sum(n * (n - 1) / 2), 0) AS pairs FROM (SELECT count(*) AS n "
           f"FROM {table} WHERE {present} GROUP BY {', '.join(cols)}) g")
    return int(backend.fetch_arrow(sql).to_pylist()[0]["pairs"])


def comparison_columns(settings: dict[str, Any]) -> dict[str, set[str]]:
    """Per comparison of a Splink settings dict, the input columns its levels use."""
    out: dict[str, set[str]] = {}
    for comp in settings["comparisons"]:
        cols: set[str] = set()
        for level in comp["comparison_levels"]:
            cols |= set(_SIDE_COLUMN.findall(level["sql_condition"]))
        out[comp["output_column_name"]] = cols
    return out


def plan_training(backend: Backend, table: str, kind: str, tr: Training,
                  settings: dict[str, Any], blocking: Sequence[Sequence[str]]) -> TrainingPlan:
    """Which prior rules, EM blocks and blocking rules the data in ``table`` supports."""
    comps = comparison_columns(settings)
    candidates = [*tr.prior_rules, *tr.em_blocking, *blocking]
    fill = fill_shares(backend, table,
                       [c for cols in candidates for c in cols] + [c for s in comps.values()
                                                                   for c in s])
    records = backend.count(table)

    prior = []
    for cols in tr.prior_rules:
        f = _rule_fill(fill, cols)
        if f < tr.min_fill:
            prior.append(RuleCheck(tuple(cols), f, 0, False, "columns empty"))
            continue
        n = _pair_count(backend, table, cols)
        prior.append(RuleCheck(tuple(cols), f, n, n > 0, "" if n else "no pair"))
    if not any(r.used for r in prior):
        raise TrainingError(
            f"cannot train the {kind} model on {records:,} records: no deterministic rule "
            f"finds a pair to estimate how often two records match (tried "
            f"{_describe(prior)}; fields held: {_held(fill)}). Add records that share "
            f"an identifier, or a prior rule on fields this data holds to "
            f"config/matching.yaml")

    estimable = {c for c, cols in comps.items() if any(fill.get(x, 0) >= tr.min_fill
                                                       for x in cols)}
    sizes = {tuple(cols): (_rule_fill(fill, cols), _pair_count(backend, table, cols)
                           if _rule_fill(fill, cols) >= tr.min_fill else 0)
             for cols in tr.em_blocking}
    # a small store may have no block of em_min_pairs: then any block with a pair
    for least in (tr.em_min_pairs, 1):
        em, covered = _em_blocks(tr, sizes, comps, estimable, least)
        if any(r.used for r in em):
            break
    else:
        raise TrainingError(
            f"cannot train the {kind} model on {records:,} records: no EM block finds a "
            f"pair (tried {_describe(em)}; fields held: {_held(fill)})")

    checks = _blocking_checks(backend, table, blocking, fill, tr, records)
    if not any(r.used for r in checks):
        raise TrainingError(f"cannot match {kind}s: no blocking rule finds a candidate pair "
                            f"(tried {_describe(checks)}; fields held: {_held(fill)})")
    return TrainingPlan(records, fill, tuple(prior), tuple(em), tuple(checks),
                        tuple(sorted(estimable - covered)))


def _em_blocks(tr: Training, sizes: dict[tuple[str, ...], tuple[float, int]],
               comps: dict[str, set[str]], estimable: set[str], least: int
               ) -> tuple[list[RuleCheck], set[str]]:
    covered: set[str] = set()
    em = []
    for cols in tr.em_blocking:
        f, n = sizes[tuple(cols)]
        if f < tr.min_fill:
            em.append(RuleCheck(tuple(cols), f, 0, False, "columns empty"))
            continue
        adds = {c for c in estimable - covered if not comps[c] & set(cols)}
        why = ("no pair" if n == 0 else "too few pairs" if n < least else
               "adds no comparison to estimate" if not adds else "")
        if not why:
            covered |= adds
        em.append(RuleCheck(tuple(cols), f, n, not why, why))
    return em, covered


def _blocking_checks(backend: Backend, table: str, blocking: Sequence[Sequence[str]],
                     fill: dict[str, float], tr: Training, records: int) -> list[RuleCheck]:
    filled = [tuple(cols) for cols in blocking if _rule_fill(fill, cols) >= tr.min_fill]
    counts: dict[tuple[str, ...], int] = {}
    if filled:
        # above _EXACT_COUNT_MAX records Splink samples records on each side: a pair
        # is counted with the square of the share, so the share shrinks slowly
        share = min(1.0, (_EXACT_COUNT_MAX / max(records, 1)) ** 0.5)
        with warnings.catch_warnings():  # "based on few sampled comparisons": a budget
            warnings.simplefilter("ignore", UserWarning)  # check needs no more
            got = count_comparisons_from_blocking_rules(
                backend.register(table), blocking_rules=[block_on(*c) for c in filled],
                link_type="dedupe_only", unique_id_column_name="unique_id",
                record_sample_proportion=share)
        counts = {c: int(r["marginal_comparison_count"]) for c, r in zip(filled, got,
                                                                           strict=True)}
    budget = tr.max_comparisons_per_record * max(records, 1)
    out = []
    for cols in blocking:
        key = tuple(cols)
        f = _rule_fill(fill, cols)
        if key not in counts:
            out.append(RuleCheck(key, f, 0, False, "columns empty"))
        elif counts[key] > budget:
            out.append(RuleCheck(key, f, counts[key], False,
                                 f"over {tr.max_comparisons_per_record} comparisons a record"))
        else:
            out.append(RuleCheck(key, f, counts[key], counts[key] > 0,
                                 "" if counts[key] else "no pair"))
    return out


def _describe(checks: Sequence[RuleCheck]) -> str:
    return "; ".join(f"{'+'.join(r.columns)}: {r.why or 'used'}" for r in checks) or "none"


def _held(fill: dict[str, float]) -> str:
    held = [f"{c} {v:.0%}" for c, v in sorted(fill.items(), key=lambda kv: -kv[1]) if v > 0]
    return ", ".join(held[:12]) or "none"


def probe_rules(backend: Backend, table: str, plan: dict[str, Any], tr: Training
                ) -> tuple[list[str], float]:
    """Looser rules to estimate what the blocking rules miss: each column of a
    used blocking rule alone (those adding at most ``probe_max_per_record``
    comparisons a record), on a hash sample of the records (a pair is probed
    when either record is in it) sized to ``probe_max_pairs``. Returns the
    rules' SQL and the sample share."""
    records = max(int(plan.get("records", 0)), 1)
    used = [tuple(r["columns"]) for r in plan.get("blocking", []) if r["used"]]
    columns = sorted({c for cols in used for c in cols})
    sizes = {c: _pair_count(backend, table, [c]) for c in columns}
    kept = [c for c in columns if 0 < sizes[c] <= tr.probe_max_per_record * records]
    total = sum(sizes[c] for c in kept)
    if not total:
        return [], 0.0
    share = min(1.0, tr.probe_max_pairs / (2 * total))
    cut = max(1, int(share * 10_000))
    # one rule per side, each filtering one table before the join (a filter on
    # both sides at once would run after it); the second rule adds the pairs
    # whose sampled record sits on the right
    return [f"l.{c} = r.{c} AND abs(hash({side}.unique_id)) % 10000 < {cut}"
            for c in kept for side in ("l", "r")], cut / 10_000


def report_lines(kind: str, plan: dict[str, Any], calibration: dict[str, float]) -> list[str]:
    """What ``ecif train`` prints about one model: fields held, rules chosen and
    left out (with their pair counts), the calibrated suspect threshold and the
    estimated blocking recall."""
    if not plan:
        return [f"{kind}: no training plan recorded (a model from an older ECIF)"]
    p = TrainingPlan.from_json(plan)
    lines = [f"{kind}: {p.records:,} records; fields held: {_held(p.fill)}"]
    for title, checks in (("prior rules", p.prior_rules), ("EM blocks", p.em_blocks),
                          ("blocking rules", p.blocking)):
        used = [f"{'+'.join(r.columns)} ({r.pairs:,} pairs)" for r in checks if r.used]
        left = [f"{'+'.join(r.columns)} ({r.why})" for r in checks
                if not r.used and r.why != "columns empty"]
        lines.append(f"  {title}: {', '.join(used) or 'none'}"
                     + (f"; left out: {', '.join(left)}" if left else ""))
    if p.not_estimated:
        lines.append(f"  not estimated by EM (Splink defaults): {', '.join(p.not_estimated)}")
    if calibration:
        c = calibration
        lines.append(
            f"  candidate pairs {c.get('candidate_pairs', 0):,.0f}; expected matches among them "
            f"{c.get('expected_matches_blocked', 0):,.0f}, missed by blocking (probe sample "
            f"{c.get('probe_sample_share', 0):.1%}) {c.get('expected_matches_missed', 0):,.0f}: "
            f"estimated blocking recall {c.get('blocking_recall', 1):.4f}")
        lines.append(f"  calibrated suspect threshold {c.get('suspect', 0):.4f} (pairs below it "
                     f"hold the last matches the model expects)")
    if plan.get("labels"):
        lines += LabelReport(**plan["labels"]).lines(kind)
    return lines
