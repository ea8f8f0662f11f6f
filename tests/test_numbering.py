"""Stable customer numbers: survivors, tombstones, splits, new numbers in order."""

from __future__ import annotations

import pandas as pd

from matching.numbering import assign_numbers


def _numbers(rows: list[tuple[str, str, str | None]], kept: list[bool] | None = None,
             start: int = 100):  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(rows, columns=["record_key", "cluster", "prior_no"])
    if kept is not None:
        frame["kept"] = kept
    counter = iter(range(start, start + 1000))
    return assign_numbers(frame, lambda: f"C{next(counter)}")


def test_merge_keeps_the_number_holding_most_records() -> None:
    got = _numbers([("a", "a", "C1"), ("b", "a", "C2"), ("c", "a", "C2")])
    assert got.numbers == {"a": "C2"}
    assert got.merged_into == [("C1", "C2")] and got.created == []


def test_tie_goes_to_the_older_number() -> None:
    got = _numbers([("a", "a", "C7"), ("b", "a", "C3")])
    assert got.numbers == {"a": "C3"} and got.merged_into == [("C7", "C3")]


def test_split_leaves_the_number_with_the_larger_part() -> None:
    got = _numbers([("a", "a", "C1"), ("b", "a", "C1"), ("c", "c", "C1")])
    assert got.numbers == {"a": "C1", "c": "C100"}
    assert got.split_from == [("C100", "C1")] and got.merged_into == []


def test_on_a_tie_the_unchanged_records_keep_the_number() -> None:
    got = _numbers([("a", "a", "C1"), ("b", "b", "C1")], kept=[False, True])
    assert got.numbers == {"a": "C100", "b": "C1"}


def test_new_clusters_get_new_numbers_in_cluster_order() -> None:
    got = _numbers([("z", "z", None), ("m", "m", None), ("n", "m", None)])
    assert got.numbers == {"m": "C100", "z": "C101"} and got.created == ["C100", "C101"]
