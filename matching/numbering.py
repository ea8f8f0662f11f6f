"""Stable customer numbers (客户号稳定): which cluster keeps which number.

Pure: a table in, assignments and changes out. A cluster holding records of
earlier customers keeps the number that most of its records held (ties: the
older, i.e. smaller, number); every number goes to at most one cluster, so a
split leaves the number with the part holding most records. A number that no
cluster keeps becomes a tombstone merged into the cluster holding most of its
records. Clusters left without a number get new ones, in the order of their
smallest record key, so re-running gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

__all__ = ["Numbering", "assign_numbers"]


@dataclass(frozen=True)
class Numbering:
    numbers: dict[str, str]  # cluster -> customer number
    created: list[str]  # new numbers, in allocation order
    merged_into: list[tuple[str, str]]  # (tombstoned number, survivor)
    split_from: list[tuple[str, str]]  # (new number, number its records came from)


def assign_numbers(records: pd.DataFrame, new_number: Callable[[], str],
                   restore: dict[str, str] | None = None) -> Numbering:
    """``records``: one row per record of the clusters being decided, columns
    ``record_key``, ``cluster`` (its smallest record key) and ``prior_no`` (the
    customer number the record had before, or None for a new record); optionally
    ``kept`` (False for a record detached from its customer because its identity
    changed: on a tie, the number stays with the records that did not change).
    ``restore`` gives clusters the numbers they must have (a steward's split keeps
    the number with the records that stay; a rollback brings tombstones back);
    they are taken first."""
    prior = records.dropna(subset=["prior_no"])
    if "kept" not in prior.columns:
        prior = prior.assign(kept=True)
    counts = (prior.groupby(["cluster", "prior_no"])
              .agg(n=("record_key", "size"), kept=("kept", "sum")).reset_index()
              .sort_values(["n", "kept", "prior_no", "cluster"],
                           ascending=[False, False, True, True]))
    numbers: dict[str, str] = dict(restore or {})
    taken: set[str] = set(numbers.values())
    if len(taken) != len(numbers):
        raise ValueError("restore gives one number to two clusters")
    for cluster, no in zip(counts["cluster"], counts["prior_no"], strict=True):
        if cluster not in numbers and no not in taken:
            numbers[cluster] = no
            taken.add(no)
    created = []
    for cluster in sorted(set(records["cluster"]) - set(numbers)):
        numbers[cluster] = new_number()
        created.append(numbers[cluster])
    merged_into = []
    for no, rows in counts.groupby("prior_no", sort=True):
        if no not in taken:  # rows are sorted: the first holds most of its records
            merged_into.append((str(no), numbers[rows["cluster"].iloc[0]]))
    split_from = []
    fresh = set(created)
    for cluster, rows in counts.groupby("cluster", sort=True):
        no = numbers[str(cluster)]
        if no in fresh:
            split_from.append((no, str(rows["prior_no"].iloc[0])))
    return Numbering(numbers, created, merged_into, split_from)
