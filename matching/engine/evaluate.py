"""Evaluation of a clustering against a known truth (``ecif eval --truth F``).

Every function takes labels as pandas Series indexed by record id: ``pred``
maps a record to its predicted cluster (customer number), ``truth`` to its true
entity. Any hashable id works, a (source_system, source_customer_id)
MultiIndex included.

Nothing here enumerates pairs. The pairwise counts come from the contingency
table of (predicted cluster i, true entity j) with cell sizes n_ij, cluster
sizes a_i and entity sizes b_j:

- true-positive pairs  = sum over cells    of C(n_ij, 2)
- predicted pairs      = sum over clusters of C(a_i, 2)
- true pairs           = sum over entities of C(b_j, 2)

which costs one sort of the records (several million records take seconds).

B-cubed scores are averaged over records: for record r in cluster i and entity
j, precision_r = n_ij / a_i and recall_r = n_ij / b_j.

Conventions for empty denominators, so that a perfect result always scores 1:
pairwise precision is 1.0 when there are no predicted pairs, pairwise recall is
1.0 when there are no true pairs, and F1 is 0.0 only when precision + recall is
0. With no records at all every score, B-cubed and exact-entity share included,
is 1.0 (nothing was got wrong).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "Metrics",
    "evaluate",
    "after_perfect_review",
    "evaluate_by_type",
    "share_in_tasks",
    "truth_series",
    "CUSTOMER_TYPES",
]

#: Keys of :func:`evaluate_by_type`'s result, in report order.
CUSTOMER_TYPES: tuple[str, ...] = ("P", "G", "all")

#: How many offending ids an error message lists.
_SHOW = 5

_IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Metrics:
    """Pairwise and cluster scores of one clustering against the truth."""

    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    #: true-positive pairs / predicted pairs (1.0 when no pair was predicted).
    precision: float
    #: true-positive pairs / true pairs (1.0 when there is no true pair).
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    predicted_clusters: int
    true_entities: int
    #: true entities whose records form exactly one predicted cluster, no more.
    exact_entities: int
    #: exact_entities / true_entities (1.0 when there are no entities).
    exact_entity_share: float
    #: predicted clusters holding records of more than one true entity.
    over_merged_clusters: int
    #: true entities whose records are split over more than one predicted cluster.
    under_merged_entities: int

    def as_dict(self) -> dict[str, int | float]:
        """The fields by name, in declaration order (for JSON or CSV output)."""
        return dataclasses.asdict(self)

    def format(self, title: str = "") -> str:
        """A short human-readable report, one figure per line."""
        lines = [title] if title else []
        lines += [
            f"records                 {self.records:>12,}",
            f"pairwise precision      {self.precision:>12.4f}"
            f"   ({self.true_positive_pairs:,} of {self.predicted_pairs:,} predicted pairs)",
            f"pairwise recall         {self.recall:>12.4f}"
            f"   ({self.true_positive_pairs:,} of {self.true_pairs:,} true pairs)",
            f"pairwise F1             {self.f1:>12.4f}",
            f"B-cubed precision       {self.bcubed_precision:>12.4f}",
            f"B-cubed recall          {self.bcubed_recall:>12.4f}",
            f"B-cubed F1              {self.bcubed_f1:>12.4f}",
            f"predicted clusters      {self.predicted_clusters:>12,}",
            f"true entities           {self.true_entities:>12,}",
            f"entities exact          {self.exact_entities:>12,}   ({self.exact_entity_share:.2%})",
            f"over-merged clusters    {self.over_merged_clusters:>12,}",
            f"under-merged entities   {self.under_merged_entities:>12,}",
        ]
        return "\n".join(lines)


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 0.0 if total == 0 else 2 * precision * recall / total


def _pairs(sizes: _IntArray) -> int:
    # int64 holds n * (n - 1) for n up to ~3e9, and the sum up to ~9.2e18.
    return int((sizes * (sizes - 1) // 2).sum())


def _few(ids: Sequence[Hashable] | pd.Index) -> str:
    shown = ", ".join(repr(i) for i in list(ids[:_SHOW]))
    more = len(ids) - _SHOW
    return shown + (f" and {more:,} more" if more > 0 else "")


def _check_labels(labels: pd.Series, what: str, *, unique_known: bool = False) -> None:
    if not unique_known and not labels.index.is_unique:
        dup = labels.index[labels.index.duplicated()].unique()
        raise ValueError(f"{what}: record id(s) listed more than once: {_few(dup)}")
    missing = labels.index[labels.isna().to_numpy()]
    if len(missing):
        raise ValueError(f"{what}: record(s) without a label: {_few(missing)}")


def _align(pred: pd.Series, truth: pd.Series) -> pd.Series:
    """``truth`` in ``pred``'s record order, after checking both cover the same ids."""
    _check_labels(pred, "predicted clusters")
    same = truth.index.equals(pred.index)  # the common case: no reordering needed
    _check_labels(truth, "truth", unique_known=same)
    if same:
        return truth
    missing = truth.index.difference(pred.index)
    extra = pred.index.difference(truth.index)
    if len(missing) or len(extra):
        problems = []
        if len(missing):
            problems.append(
                f"{len(missing):,} record(s) in the truth but not predicted: {_few(missing)}"
            )
        if len(extra):
            problems.append(f"{len(extra):,} predicted record(s) not in the truth: {_few(extra)}")
        raise ValueError(
            "predicted clusters and truth cover different records; " + "; ".join(problems)
        )
    return truth.reindex(pred.index)


def _codes(labels: pd.Series) -> tuple[_IntArray, int]:
    codes, uniques = pd.factorize(labels, sort=False)
    return codes.astype(np.int64), len(uniques)


def _metrics(pred_codes: _IntArray, n_pred: int, truth_codes: _IntArray, n_true: int) -> Metrics:
    records = len(pred_codes)
    if records == 0:
        return Metrics(0, 0, 0, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0, 0, 0, 1.0, 0, 0)
    # One cell per occupied (cluster, entity) combination; key < n_pred * n_true <= records².
    keys = pred_codes * np.int64(n_true) + truth_codes
    cell_keys, cell_sizes = np.unique(keys, return_counts=True)
    cell_sizes = cell_sizes.astype(np.int64)
    cell_pred = cell_keys // n_true
    cell_true = cell_keys % n_true
    cluster_sizes = np.bincount(pred_codes, minlength=n_pred).astype(np.int64)
    entity_sizes = np.bincount(truth_codes, minlength=n_true).astype(np.int64)

    true_positive = _pairs(cell_sizes)
    predicted = _pairs(cluster_sizes)
    true = _pairs(entity_sizes)
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / true if true else 1.0

    squares = cell_sizes.astype(np.float64) ** 2
    b_precision = float((squares / cluster_sizes[cell_pred]).sum() / records)
    b_recall = float((squares / entity_sizes[cell_true]).sum() / records)

    cells_per_cluster = np.bincount(cell_pred, minlength=n_pred)
    cells_per_entity = np.bincount(cell_true, minlength=n_true)
    exact = int(
        ((cell_sizes == cluster_sizes[cell_pred]) & (cell_sizes == entity_sizes[cell_true])).sum()
    )
    return Metrics(
        records=records,
        true_pairs=true,
        predicted_pairs=predicted,
        true_positive_pairs=true_positive,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=_f1(b_precision, b_recall),
        predicted_clusters=n_pred,
        true_entities=n_true,
        exact_entities=exact,
        exact_entity_share=exact / n_true,
        over_merged_clusters=int((cells_per_cluster > 1).sum()),
        under_merged_entities=int((cells_per_entity > 1).sum()),
    )


def evaluate(pred: pd.Series, truth: pd.Series) -> Metrics:
    """Score predicted cluster labels against true entity labels.

    Both Series are indexed by record id and must cover exactly the same
    records, each once and each labelled; otherwise ValueError names the
    offending ids (the first few).
    """
    aligned = _align(pred, truth)
    pred_codes, n_pred = _codes(pred)
    truth_codes, n_true = _codes(aligned)
    return _metrics(pred_codes, n_pred, truth_codes, n_true)


def _find(parent: list[int], x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:  # path compression
        parent[x], x = root, parent[x]
    return root


def after_perfect_review(pred: pd.Series, tasks: pd.DataFrame, truth: pd.Series) -> pd.Series:
    """The clusters a perfect steward leaves after working every task in ``tasks``.

    ``tasks`` has columns ``task_id`` and ``record_id`` (one row per record in
    a task). For each task the steward merges the predicted clusters of the
    task's records that truly belong together (same true entity) and splits
    nothing; no merge is made between records of different tasks, though
    merges chain through a shared cluster. Returns new labels on ``pred``'s
    index; a merged cluster keeps the label of the merged cluster that comes
    first in ``pred``.
    """
    missing_cols = {"task_id", "record_id"} - set(tasks.columns)
    if missing_cols:
        raise ValueError(
            f"tasks: missing column(s) {', '.join(sorted(missing_cols))}; "
            "expected task_id, record_id"
        )
    aligned = _align(pred, truth)
    pred_codes, uniques = pd.factorize(pred, sort=False)  # codes in order of first appearance
    n_pred = len(uniques)
    truth_codes, _ = _codes(aligned)

    positions = pred.index.get_indexer(pd.Index(tasks["record_id"]))
    unknown = tasks["record_id"].to_numpy()[positions < 0]
    if len(unknown):
        raise ValueError(
            f"tasks: {len(unknown):,} record id(s) not among the predicted "
            f"records: {_few(list(unknown))}"
        )

    rows = pd.DataFrame(
        {
            "task": pd.factorize(tasks["task_id"])[0],
            "entity": truth_codes[positions],
            "cluster": pred_codes[positions],
        }
    ).drop_duplicates()
    # Join every cluster of a (task, entity) group to the group's first cluster.
    first = rows.groupby(["task", "entity"], sort=False)["cluster"].transform("first")
    edges = rows.loc[first != rows["cluster"], "cluster"].to_numpy()
    anchors = first[first != rows["cluster"]].to_numpy()

    parent = list(range(n_pred))
    for a, b in zip(anchors.tolist(), edges.tolist(), strict=True):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:  # the smaller code, i.e. the first-seen cluster, stays root
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.arange(n_pred, dtype=np.int64)
    touched = np.unique(np.concatenate([anchors, edges]))  # the others are their own root
    roots[touched] = [_find(parent, c) for c in touched.tolist()]

    return pd.Series(uniques[roots[pred_codes]], index=pred.index, name=pred.name)


def evaluate_by_type(
    pred: pd.Series, truth: pd.Series, customer_type: pd.Series
) -> dict[str, Metrics]:
    """Metrics for persons ("P"), organisations ("G") and everything ("all").

    ``customer_type`` is indexed by record id like ``pred`` and must cover
    every predicted record. Each type is scored on its own records alone: a
    cluster holding both persons and organisations counts, for "P", as its
    person part. A type with no records gets the vacuous all-1.0 score.
    """
    aligned = _align(pred, truth)
    missing = pred.index.difference(customer_type.index)
    if len(missing):
        raise ValueError(
            f"customer_type: {len(missing):,} record(s) without a type: {_few(missing)}"
        )
    types = customer_type.reindex(pred.index).to_numpy()
    result: dict[str, Metrics] = {}
    for kind in CUSTOMER_TYPES:
        mask = np.ones(len(pred), dtype=bool) if kind == "all" else types == kind
        pred_codes, n_pred = _codes(pred[mask])
        truth_codes, n_true = _codes(aligned[mask])
        result[kind] = _metrics(pred_codes, n_pred, truth_codes, n_true)
    return result


def share_in_tasks(tasks: pd.DataFrame, n_records: int) -> float:
    """The share of ``n_records`` records that sit in at least one task (0.0 if none)."""
    if n_records < 0:
        raise ValueError(f"n_records must be >= 0, got {n_records}")
    in_tasks = int(tasks["record_id"].nunique())
    if in_tasks > n_records:
        raise ValueError(
            f"tasks name {in_tasks:,} distinct records, more than the {n_records:,} records given"
        )
    return in_tasks / n_records if n_records else 0.0


def truth_series(frame: pd.DataFrame) -> pd.Series:
    """A truth file (source_system, source_customer_id, entity_id) as a Series.

    The result is indexed by a (source_system, source_customer_id) MultiIndex,
    ready for :func:`evaluate`. Raises ValueError on a missing column.
    """
    columns = ["source_system", "source_customer_id", "entity_id"]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"truth: missing column(s) {', '.join(missing)}; expected {','.join(columns)}"
        )
    return frame.set_index(["source_system", "source_customer_id"])["entity_id"]
