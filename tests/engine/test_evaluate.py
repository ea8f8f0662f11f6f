"""matching.engine.evaluate: pairwise and cluster metrics without enumerating pairs."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.engine.evaluate import (
    Metrics,
    after_perfect_review,
    evaluate,
    evaluate_by_type,
    share_in_tasks,
    truth_series,
)

IDS = ["r1", "r2", "r3", "r4", "r5", "r6"]
# Entities a = {r1, r2, r3}, b = {r4, r5}, c = {r6}.
# True pairs: C(3,2) + C(2,2) + C(1,2) = 3 + 1 + 0 = 4.
TRUTH = pd.Series(["a", "a", "a", "b", "b", "c"], index=IDS)


def _labels(values: list[object], ids: list[str] = IDS) -> pd.Series:
    return pd.Series(values, index=ids)


def _tasks(rows: list[tuple[object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task_id", "record_id"])


# --- evaluate(): hand-made cases ------------------------------------------------------


def test_perfect_clustering() -> None:
    m = evaluate(_labels(["X", "X", "X", "Y", "Y", "Z"]), TRUTH)
    assert (m.records, m.true_pairs, m.predicted_pairs, m.true_positive_pairs) == (6, 4, 4, 4)
    assert (m.precision, m.recall, m.f1) == (1.0, 1.0, 1.0)
    assert (m.bcubed_precision, m.bcubed_recall, m.bcubed_f1) == (1.0, 1.0, 1.0)
    assert (m.predicted_clusters, m.true_entities, m.exact_entities) == (3, 3, 3)
    assert m.exact_entity_share == 1.0
    assert (m.over_merged_clusters, m.under_merged_entities) == (0, 0)


def test_one_over_merge() -> None:
    # b and c merged into Y = {r4, r5, r6}.
    # Predicted pairs: C(3,2) + C(3,2) = 6. TP: cells (X,a)=3, (Y,b)=2, (Y,c)=1 -> 3 + 1 + 0 = 4.
    # B-cubed precision: a records 3/3 each, b records 2/3 each, c record 1/3
    #   -> (3 + 4/3 + 1/3) / 6 = 7/9. Recall: every entity lies in one cluster -> 1.
    m = evaluate(_labels(["X", "X", "X", "Y", "Y", "Y"]), TRUTH)
    assert (m.true_pairs, m.predicted_pairs, m.true_positive_pairs) == (4, 6, 4)
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == 1.0
    assert m.f1 == pytest.approx(0.8)
    assert m.bcubed_precision == pytest.approx(7 / 9)
    assert m.bcubed_recall == 1.0
    assert m.bcubed_f1 == pytest.approx(2 * (7 / 9) / (7 / 9 + 1))
    assert (m.predicted_clusters, m.true_entities, m.exact_entities) == (2, 3, 1)
    assert m.exact_entity_share == pytest.approx(1 / 3)
    assert (m.over_merged_clusters, m.under_merged_entities) == (1, 0)


def test_one_split() -> None:
    # a split into X = {r1, r2} and Z = {r3}.
    # Predicted pairs: C(2,2) + C(1,2) + C(2,2) + C(1,2) = 2, both true -> TP 2.
    # Precision 2/2 = 1, recall 2/4 = 0.5, F1 = 2/3.
    # B-cubed recall: r1, r2 2/3 each, r3 1/3, b and c records 1 -> (5/3 + 3) / 6 = 7/9.
    m = evaluate(_labels(["X", "X", "Z", "Y", "Y", "W"]), TRUTH)
    assert (m.true_pairs, m.predicted_pairs, m.true_positive_pairs) == (4, 2, 2)
    assert (m.precision, m.recall) == (1.0, 0.5)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.bcubed_precision == 1.0
    assert m.bcubed_recall == pytest.approx(7 / 9)
    assert (m.predicted_clusters, m.true_entities, m.exact_entities) == (4, 3, 2)
    assert (m.over_merged_clusters, m.under_merged_entities) == (0, 1)


def test_label_types_and_record_order_do_not_matter() -> None:
    pred = pd.Series([7, 7, 7, 8, 8, 9], index=IDS)[::-1]  # int labels, reversed order
    assert evaluate(pred, TRUTH) == evaluate(_labels(["X", "X", "X", "Y", "Y", "Z"]), TRUTH)


def test_textbook_example() -> None:
    # Manning, Raghavan & Schütze, Introduction to Information Retrieval, §16.3, Fig. 16.1/16.4:
    # cluster 1 = 5 x + 1 o, cluster 2 = 1 x + 4 o + 1 d, cluster 3 = 2 x + 3 d (17 documents).
    # The book gives TP = 20, FP = 20, FN = 24 pairs.
    # B-cubed precision = (25+1)/6 + (1+16+1)/6 + (4+9)/5 = 149/15 over 17 records;
    # B-cubed recall    = (25+1+4)/8 + (1+16)/5 + (1+9)/4 = 193/20 over 17 records.
    truth = list("xxxxxo" + "xooood" + "xxddd")
    pred = [1] * 6 + [2] * 6 + [3] * 5
    ids = [f"d{i}" for i in range(17)]
    m = evaluate(pd.Series(pred, index=ids), pd.Series(truth, index=ids))
    assert m.true_positive_pairs == 20
    assert m.predicted_pairs - m.true_positive_pairs == 20
    assert m.true_pairs - m.true_positive_pairs == 24
    assert m.precision == 0.5
    assert m.recall == pytest.approx(20 / 44)
    assert m.bcubed_precision == pytest.approx(149 / 15 / 17)
    assert m.bcubed_recall == pytest.approx(193 / 20 / 17)
    assert (m.over_merged_clusters, m.under_merged_entities, m.exact_entities) == (3, 3, 0)


# --- evaluate(): edge cases -------------------------------------------------------------


def test_no_pairs_anywhere_scores_one() -> None:
    ids = ["p", "q", "r"]
    m = evaluate(pd.Series([1, 2, 3], index=ids), pd.Series(["a", "b", "c"], index=ids))
    assert (m.true_pairs, m.predicted_pairs) == (0, 0)
    assert (m.precision, m.recall, m.f1) == (1.0, 1.0, 1.0)


def test_all_singletons_against_true_pairs() -> None:
    m = evaluate(_labels([1, 2, 3, 4, 5, 6]), TRUTH)
    assert (m.precision, m.recall, m.f1) == (1.0, 0.0, 0.0)
    assert m.under_merged_entities == 2


def test_one_big_cluster_against_singletons() -> None:
    ids = ["p", "q", "r"]
    m = evaluate(pd.Series([1, 1, 1], index=ids), pd.Series(["a", "b", "c"], index=ids))
    assert (m.predicted_pairs, m.true_positive_pairs) == (3, 0)
    assert (m.precision, m.recall, m.f1) == (0.0, 1.0, 0.0)
    assert m.bcubed_precision == pytest.approx(1 / 3)


def test_no_records() -> None:
    empty = pd.Series([], dtype=object)
    m = evaluate(empty, empty)
    assert m.records == 0
    assert (m.precision, m.recall, m.bcubed_f1, m.exact_entity_share) == (1.0, 1.0, 1.0, 1.0)


def test_different_records_are_named() -> None:
    pred = _labels([1, 1, 1, 2, 2, 3])
    truth = pd.Series(["a", "a", "a", "b", "b", "z"], index=IDS[:5] + ["r9"])
    with pytest.raises(ValueError, match=r"'r9'.*'r6'|'r6'.*'r9'") as info:
        evaluate(pred, truth)
    assert "in the truth but not predicted" in str(info.value)
    assert "not in the truth" in str(info.value)


def test_many_missing_records_are_listed_briefly() -> None:
    ids = [f"r{i}" for i in range(100)]
    with pytest.raises(ValueError, match="and 95 more"):
        evaluate(pd.Series(0, index=ids), pd.Series([], dtype=object))


def test_duplicate_and_missing_labels_are_rejected() -> None:
    with pytest.raises(ValueError, match="more than once.*'r1'"):
        evaluate(pd.Series([1, 1], index=["r1", "r1"]), pd.Series(["a"], index=["r1"]))
    with pytest.raises(ValueError, match="without a label.*'r2'"):
        evaluate(
            pd.Series([1, None], index=["r1", "r2"]), pd.Series(["a", "a"], index=["r1", "r2"])
        )


def test_large_cluster_counts_are_exact_without_enumerating_pairs() -> None:
    n = 1_000_000  # C(n, 2) ~ 5e11 pairs: enumeration would never finish
    ids = np.arange(n)
    pred = pd.Series(np.zeros(n, dtype=np.int64), index=ids)
    truth = pd.Series(ids % 2, index=ids)
    m = evaluate(pred, truth)
    assert m.predicted_pairs == n * (n - 1) // 2
    assert m.true_positive_pairs == m.true_pairs == 2 * ((n // 2) * (n // 2 - 1) // 2)


def test_multiindex_record_ids_via_truth_series() -> None:
    frame = pd.DataFrame(
        {
            "source_system": ["CORE", "CORE", "UW"],
            "source_customer_id": ["1", "2", "1"],
            "entity_id": ["e1", "e2", "e1"],
        }
    )
    truth = truth_series(frame)
    pred = pd.Series(["C1", "C2", "C1"], index=truth.index)
    assert evaluate(pred, truth).f1 == 1.0
    with pytest.raises(ValueError, match="entity_id"):
        truth_series(frame.drop(columns="entity_id"))


def test_format_and_as_dict() -> None:
    m = evaluate(_labels(["X", "X", "X", "Y", "Y", "Y"]), TRUTH)
    d = m.as_dict()
    assert list(d) == [f.name for f in Metrics.__dataclass_fields__.values()]
    assert d["predicted_pairs"] == 6
    text = m.format("persons")
    assert text.splitlines()[0] == "persons"
    assert "0.6667" in text and "over-merged clusters" in text


# --- evaluate() against brute force -----------------------------------------------------


def _brute_force(pred: list[int], truth: list[int]) -> dict[str, float]:
    n = len(pred)
    pairs = list(itertools.combinations(range(n), 2))
    same_pred = {(i, j) for i, j in pairs if pred[i] == pred[j]}
    same_true = {(i, j) for i, j in pairs if truth[i] == truth[j]}
    clusters: dict[int, set[int]] = defaultdict(set)
    entities: dict[int, set[int]] = defaultdict(set)
    for i in range(n):
        clusters[pred[i]].add(i)
        entities[truth[i]].add(i)
    bp = sum(len(clusters[pred[i]] & entities[truth[i]]) / len(clusters[pred[i]]) for i in range(n))
    br = sum(
        len(clusters[pred[i]] & entities[truth[i]]) / len(entities[truth[i]]) for i in range(n)
    )
    cluster_sets = [frozenset(c) for c in clusters.values()]
    return {
        "true_pairs": len(same_true),
        "predicted_pairs": len(same_pred),
        "true_positive_pairs": len(same_pred & same_true),
        "bcubed_precision": bp / n if n else 1.0,
        "bcubed_recall": br / n if n else 1.0,
        "predicted_clusters": len(clusters),
        "true_entities": len(entities),
        "exact_entities": sum(frozenset(e) in cluster_sets for e in entities.values()),
        "over_merged_clusters": sum(len({truth[i] for i in c}) > 1 for c in clusters.values()),
        "under_merged_entities": sum(len({pred[i] for i in e}) > 1 for e in entities.values()),
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=30),
)
def test_evaluate_matches_brute_force(labels: list[tuple[int, int]]) -> None:
    pred = [p for p, _ in labels]
    truth = [t for _, t in labels]
    ids = [f"r{i}" for i in range(len(labels))]
    m = evaluate(
        pd.Series(pred, index=ids, dtype=object), pd.Series(truth, index=ids, dtype=object)
    )
    expected = _brute_force(pred, truth)
    got = m.as_dict()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key
    tp, pp, tr = m.true_positive_pairs, m.predicted_pairs, m.true_pairs
    assert m.precision == (tp / pp if pp else 1.0)
    assert m.recall == (tp / tr if tr else 1.0)


# --- after_perfect_review() -------------------------------------------------------------


def test_review_merges_only_true_matches_within_a_task() -> None:
    ids = ["r1", "r2", "r3", "r4"]
    pred = pd.Series(["X", "Y", "Z", "W"], index=ids, name="customer_no")
    truth = pd.Series(["a", "a", "a", "b"], index=ids)
    # r1 and r2 are the same entity: merged. r4 is another entity: left alone.
    # r3 (entity a) is in no task: left alone.
    out = after_perfect_review(pred, _tasks([("T1", "r1"), ("T1", "r2"), ("T1", "r4")]), truth)
    assert out.tolist() == ["X", "X", "Z", "W"]
    assert out.name == "customer_no"
    assert out.index.equals(pred.index)


def test_review_never_merges_across_tasks() -> None:
    ids = ["r1", "r2"]
    pred = pd.Series(["X", "Y"], index=ids)
    truth = pd.Series(["a", "a"], index=ids)
    out = after_perfect_review(pred, _tasks([("T1", "r1"), ("T2", "r2")]), truth)
    assert out.tolist() == ["X", "Y"]


def test_review_merges_chain_through_a_shared_cluster() -> None:
    # T1 merges X and Y; T2 merges Y (already with X) and Z.
    ids = ["r1", "r2", "r3", "r4"]
    pred = pd.Series(["X", "Y", "Y", "Z"], index=ids)
    truth = pd.Series(["a", "a", "a", "a"], index=ids)
    tasks = _tasks([("T1", "r1"), ("T1", "r2"), ("T2", "r3"), ("T2", "r4")])
    assert after_perfect_review(pred, tasks, truth).tolist() == ["X"] * 4


def test_review_root_is_the_first_cluster_whatever_the_task_order() -> None:
    ids = ["r1", "r2", "r3"]
    pred = pd.Series(["P", "Q", "R"], index=ids)
    truth = pd.Series(["a", "a", "a"], index=ids)
    tasks = _tasks([("T1", "r3"), ("T1", "r2"), ("T2", "r2"), ("T2", "r1")])
    assert after_perfect_review(pred, tasks, truth).tolist() == ["P", "P", "P"]


def test_review_splits_nothing() -> None:
    # X wrongly holds a and b; the steward of T1 merges Y (entity a) into it and splits nothing.
    ids = ["r1", "r2", "r3"]
    pred = pd.Series(["X", "X", "Y"], index=ids)
    truth = pd.Series(["a", "b", "a"], index=ids)
    out = after_perfect_review(pred, _tasks([("T1", "r2"), ("T1", "r3")]), truth)
    assert out.tolist() == ["X", "X", "Y"]  # r2 and r3 differ: nothing to do
    out = after_perfect_review(pred, _tasks([("T1", "r1"), ("T1", "r3")]), truth)
    assert out.tolist() == ["X", "X", "X"]


def test_review_with_no_tasks_changes_nothing() -> None:
    pred = _labels(["X", "X", "Z", "Y", "Y", "W"])
    out = after_perfect_review(pred, _tasks([]), TRUTH)
    assert out.equals(pred)


def test_review_of_every_record_in_one_task_reaches_full_recall() -> None:
    pred = _labels(["X", "X", "Z", "Y", "Y", "W"])
    tasks = _tasks([("T1", r) for r in IDS])
    after = evaluate(after_perfect_review(pred, tasks, TRUTH), TRUTH)
    assert after.recall == 1.0 and after.precision == 1.0


def test_review_rejects_unknown_records_and_bad_columns() -> None:
    with pytest.raises(ValueError, match="'r99'"):
        after_perfect_review(_labels(list(IDS)), _tasks([("T1", "r99")]), TRUTH)
    with pytest.raises(ValueError, match="record_id"):
        after_perfect_review(_labels(list(IDS)), pd.DataFrame({"task_id": []}), TRUTH)


def test_review_with_multiindex_record_ids() -> None:
    index = pd.MultiIndex.from_tuples([("CORE", "1"), ("UW", "1"), ("UW", "2")])
    pred = pd.Series(["C1", "C2", "C3"], index=index)
    truth = pd.Series(["e1", "e1", "e2"], index=index)
    tasks = _tasks([(1, ("CORE", "1")), (1, ("UW", "1")), (1, ("UW", "2"))])
    assert after_perfect_review(pred, tasks, truth).tolist() == ["C1", "C1", "C3"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=20),
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 19)), max_size=20),
)
def test_review_only_adds_true_pairs(
    labels: list[tuple[int, int]], task_rows: list[tuple[int, int]]
) -> None:
    ids = [f"r{i}" for i in range(len(labels))]
    pred = pd.Series([p for p, _ in labels], index=ids)
    truth = pd.Series([t for _, t in labels], index=ids)
    tasks = _tasks([(t, f"r{r % len(ids)}") for t, r in task_rows])
    before = evaluate(pred, truth)
    after = evaluate(after_perfect_review(pred, tasks, truth), truth)
    assert after.true_positive_pairs >= before.true_positive_pairs
    assert after.predicted_clusters <= before.predicted_clusters
    # Every record pair in one task with the same entity ends up in one cluster.
    out = after_perfect_review(pred, tasks, truth)
    for _, group in tasks.groupby("task_id"):
        members = group["record_id"].tolist()
        for a, b in itertools.combinations(members, 2):
            if truth[a] == truth[b]:
                assert out[a] == out[b]


# --- evaluate_by_type() and share_in_tasks() -------------------------------------------


def test_evaluate_by_type_scores_each_type_on_its_own_records() -> None:
    ids = ["p1", "p2", "p3", "g1", "g2"]
    pred = pd.Series(["X", "X", "Y", "Y", "Z"], index=ids)  # Y mixes a person and an org
    truth = pd.Series(["a", "a", "b", "o", "o"], index=ids)
    types = pd.Series(["P", "P", "P", "G", "G"], index=ids)
    result = evaluate_by_type(pred, truth, types)
    assert list(result) == ["P", "G", "all"]
    assert result["P"] == evaluate(pred[ids[:3]], truth[ids[:3]])
    assert result["G"] == evaluate(pred[ids[3:]], truth[ids[3:]])
    assert result["all"] == evaluate(pred, truth)
    assert (result["P"].precision, result["P"].recall) == (1.0, 1.0)
    assert result["all"].over_merged_clusters == 1
    assert (result["G"].recall, result["G"].under_merged_entities) == (0.0, 1)


def test_evaluate_by_type_with_a_missing_type() -> None:
    result = evaluate_by_type(_labels(list(IDS)), TRUTH, pd.Series("P", index=IDS))
    assert result["G"].records == 0
    assert result["P"] == result["all"]
    with pytest.raises(ValueError, match="without a type.*'r6'"):
        evaluate_by_type(_labels(list(IDS)), TRUTH, pd.Series("P", index=IDS[:5]))


def test_share_in_tasks() -> None:
    tasks = _tasks([("T1", "r1"), ("T1", "r2"), ("T2", "r2"), ("T2", "r3")])
    assert share_in_tasks(tasks, 6) == 0.5
    assert share_in_tasks(_tasks([]), 0) == 0.0
    with pytest.raises(ValueError):
        share_in_tasks(tasks, 2)
    with pytest.raises(ValueError):
        share_in_tasks(tasks, -1)
