"""Learning from stewards: their judgements as pairwise labels.

A steward's must-link says two records are one customer; a cannot-link says
they are not. Training uses them in two ways (``ecif train
--learn-from-decisions``):

- **m from labels**: with at least ``min_must_links`` must-links among a
  type's records, Splink's ``estimate_m_from_pairwise_labels`` counts the
  comparison levels of the labelled pairs as one more estimate of each
  level's m, next to the EM sessions' (Splink keeps the median of the
  estimates). Labels come from review tasks, the pairs the model was unsure
  of, so they are not a random sample of matches: the report says how far
  each m moved, and the benchmark how much it helps (docs/engine.md).
- **thresholds from labels**: every labelled pair is scored with the trained
  model; a cannot-link that would auto-merge (at or above the auto-merge
  threshold, and the guard holds, and no exclusive attribute — two valid IDs,
  the gender, the branch state — keeps the pair apart anyway; on a store,
  only cannot-links that undid a merge: a split or a rollback) raises the
  model's auto-merge threshold to one bit above it, up to ``MAX_AUTO_MERGE``.
  Cannot-links stay decisions: the batch refuses any union across one
  whatever the model says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from matching.engine.backend import Backend
from matching.engine.guard import Guard, guard_holds

__all__ = ["LabelReport", "labelled_pairs", "labels_table", "m_shifts", "score_labelled",
           "kept_apart", "EXCLUSIVE",
           "thresholds_from_labels", "MIN_MUST_LINKS", "MAX_AUTO_MERGE"]

#: m is estimated from labels only with at least this many must-links of a type.
MIN_MUST_LINKS = 10
#: labels never raise the auto-merge threshold above this.
MAX_AUTO_MERGE = 0.99999
#: what clustering never joins across whatever the score (run._exclusive_sql): a
#: cannot-link on a pair these already keep apart says nothing about the threshold
EXCLUSIVE = {"P": ("resident_id", "gender"), "G": ("org_code", "branch_state")}


@dataclass(frozen=True)
class LabelReport:
    """What the labels of one customer type did to its model."""

    must_links: int
    cannot_links: int
    m_from_labels: bool
    why: str = ""  # why m was not estimated from the labels
    #: per comparison level: m before and after, and the shift of its weight (bits)
    m_shifts: list[dict[str, Any]] = field(default_factory=list)
    auto_merge_before: float = 0.0
    auto_merge_after: float = 0.0
    #: cannot-links the model would auto-merge (before the threshold moved)
    cannot_would_merge: int = 0
    #: cannot-links still at or above the new threshold (kept apart by the decision alone)
    cannot_above_cap: int = 0
    #: must-links below the suspect threshold (the model would not even ask)
    must_below_suspect: int = 0
    #: cannot-links an exclusive attribute keeps apart anyway (not counted above)
    cannot_kept_apart: int = 0
    #: cannot-links on pairs the machine had left apart (a not-duplicate): not counted
    cannot_not_merged: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self, kind: str) -> list[str]:
        out = [f"  labels from steward decisions: {self.must_links} must-links, "
               f"{self.cannot_links} cannot-links"]
        if self.m_from_labels:
            moved = sorted(self.m_shifts, key=lambda s: -abs(s["weight_shift"]))
            big = [s for s in moved if abs(s["weight_shift"]) >= 0.05]
            out.append(f"  m estimated from the {self.must_links} must-links too "
                       f"({len(big)} of {len(moved)} levels moved by 0.05 bits or more)")
            for s in big[:8]:
                out.append(f"    {s['comparison']} / {s['level']}: m {s['m_before']:.4g} -> "
                           f"{s['m_after']:.4g} ({s['weight_shift']:+.2f} bits)")
        else:
            out.append(f"  m not estimated from labels: {self.why}")
        if self.auto_merge_after != self.auto_merge_before:
            out.append(f"  auto-merge threshold {self.auto_merge_before:.6g} -> "
                       f"{self.auto_merge_after:.6g}: {self.cannot_would_merge} labelled "
                       f"cannot-link(s) scored at or above it")
        else:
            out.append(f"  auto-merge threshold {self.auto_merge_before:.6g} unchanged: no "
                       f"labelled cannot-link would auto-merge")
        if self.cannot_not_merged:
            out.append(f"  {self.cannot_not_merged} cannot-link(s) on pairs the machine had "
                       f"left apart (not-duplicate answers): not counted")
        if self.cannot_kept_apart:
            out.append(f"  {self.cannot_kept_apart} cannot-link(s) kept apart anyway by an "
                       f"exclusive attribute (IDs, gender, branch state): not counted")
        if self.cannot_above_cap:
            out.append(f"  {self.cannot_above_cap} cannot-link(s) score above "
                       f"{MAX_AUTO_MERGE}: kept apart by the decision alone")
        if self.must_below_suspect:
            out.append(f"  {self.must_below_suspect} must-link(s) score below the suspect "
                       f"threshold: the model would not have asked about them")
        return out


def labelled_pairs(backend: Backend, table: str, pairs: Sequence[tuple[str, str]]
                   ) -> list[tuple[str, str]]:
    """The pairs whose two records are both in ``table`` (one customer type),
    lower id first, without repeats."""
    if not pairs:
        return []
    ids = set(backend.fetch_arrow(f"SELECT unique_id FROM {table}").column(0).to_pylist())
    return sorted({(min(a, b), max(a, b)) for a, b in pairs
                   if a != b and a in ids and b in ids})


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def labels_table(backend: Backend, name: str, pairs: Sequence[tuple[str, str]],
                 score: float = 1.0) -> str:
    """A table of labelled pairs in Splink's format (``unique_id_l``,
    ``unique_id_r``, ``clerical_match_score``); returns its name."""
    rows = ", ".join(f"({_quote(a)}, {_quote(b)}, {score})" for a, b in pairs)
    backend.create_table(name, "SELECT * FROM (VALUES " + rows + ") AS t(unique_id_l, "
                         "unique_id_r, clerical_match_score)")
    return name


def score_labelled(linker: Any, backend: Backend, name: str,
                   pairs: Sequence[tuple[str, str]]) -> pa.Table:
    """Score the labelled ``pairs`` with the linker's model: every column of a
    prediction (``match_probability``, ``mw_*``). Splink's public
    ``prediction_errors_from_labels_table`` returns the labelled pairs it
    calls false negatives: with every clerical score 2 and the threshold 1.5,
    that is all of them."""
    if not pairs:
        return pa.table({"unique_id_l": pa.array([], pa.string()),
                         "unique_id_r": pa.array([], pa.string()),
                         "match_probability": pa.array([], pa.float64())})
    labels_table(backend, name, pairs, score=2.0)
    got = linker.evaluation.prediction_errors_from_labels_table(
        name, include_false_positives=False, include_false_negatives=True,
        threshold_match_probability=1.5)
    table: pa.Table = got.as_pyarrow_table()
    got.drop_table_from_database_and_remove_from_cache()
    return table


def kept_apart(backend: Backend, table: str, customer_type: str,
               pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``pairs`` an exclusive attribute keeps apart in clustering anyway (two
    different valid IDs, a man and a woman, two branch states ...)."""
    if not pairs:
        return set()
    name = labels_table(backend, f"__ecif_apart_{customer_type}", pairs)
    differ = " OR ".join(f"(a.{c} IS NOT NULL AND b.{c} IS NOT NULL AND a.{c} <> b.{c})"
                         for c in EXCLUSIVE[customer_type])
    got = backend.fetch_arrow(
        f"SELECT p.unique_id_l, p.unique_id_r FROM {name} p "
        f"JOIN {table} a ON a.unique_id = p.unique_id_l "
        f"JOIN {table} b ON b.unique_id = p.unique_id_r WHERE {differ}").to_pylist()
    return {(r["unique_id_l"], r["unique_id_r"]) for r in got}


def m_shifts(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per comparison level with an m in both Splink model dicts: m before and
    after, and how far the level's weight moved (log2 of the ratio, bits)."""
    out = []
    after_by = {c["output_column_name"]: c for c in after["comparisons"]}
    for comp in before["comparisons"]:
        name = comp["output_column_name"]
        levels_after = after_by[name]["comparison_levels"]
        for lb, la in zip(comp["comparison_levels"], levels_after, strict=True):
            mb, ma = lb.get("m_probability"), la.get("m_probability")
            if mb is None or ma is None or lb.get("is_null_level"):
                continue
            out.append({"comparison": name, "level": str(lb.get("label_for_charts", "")),
                        "m_before": float(mb), "m_after": float(ma),
                        "weight_shift": round(math.log2(max(ma, 1e-12) / max(mb, 1e-12)), 4)})
    return out


def _one_bit_above(p: float) -> float:
    """The probability one bit of match weight above ``p``."""
    return 1 - (1 - p) / 2


def thresholds_from_labels(scored: pa.Table, cannot: Sequence[tuple[str, str]],
                           must: Sequence[tuple[str, str]], *, auto_merge: float,
                           suspect: float, guard: Guard | None
                           ) -> tuple[float, dict[str, int]]:
    """The auto-merge threshold the labels ask for (the configured one, raised one
    bit above the highest labelled cannot-link that would auto-merge, up to
    :data:`MAX_AUTO_MERGE`) and counts for the report."""
    if scored.num_rows == 0:
        return auto_merge, {"cannot_would_merge": 0, "cannot_above_cap": 0,
                            "must_below_suspect": 0}
    frame = pd.DataFrame({
        "l": scored.column("unique_id_l").to_pylist(),
        "r": scored.column("unique_id_r").to_pylist(),
        "p": scored.column("match_probability").to_numpy(zero_copy_only=False).astype(float),
        "guard": guard_holds(scored, guard)})
    keys = [(min(a, b), max(a, b)) for a, b in zip(frame["l"], frame["r"], strict=True)]
    cannot_set, must_set = set(cannot), set(must)
    is_cannot = np.array([k in cannot_set for k in keys], dtype=bool)
    is_must = np.array([k in must_set for k in keys], dtype=bool)
    merging = is_cannot & (frame["p"].to_numpy() >= auto_merge) & frame["guard"].to_numpy()
    new_auto = auto_merge
    if merging.any():
        new_auto = min(MAX_AUTO_MERGE, max(auto_merge,
                                           _one_bit_above(float(frame["p"][merging].max()))))
    return new_auto, {
        "cannot_would_merge": int(merging.sum()),
        "cannot_above_cap": int((merging & (frame["p"].to_numpy() >= new_auto)).sum()),
        "must_below_suspect": int((is_must & (frame["p"].to_numpy() < suspect)).sum())}
