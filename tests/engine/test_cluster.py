"""Constraint-aware clustering (约束聚类): hand-made cases and properties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.engine.cluster import ClusterResult, OversizedGroup, RefusedReason, cluster_records

ID_A = "11010519491231002X"  # 北京 resident ID
ID_B = "440524188001010014"  # 汕头 resident ID
ID_C = "320102198001011234"  # 南京 resident ID

OK, EXCL, CL, BIG, DUP = (int(r) for r in RefusedReason)


def run(n: int, edges: list[tuple[int, int, float, int]], **kw: object) -> ClusterResult:
    """Edges as (left, right, score, tier)."""
    left, right, score, tier = (
        (list(col) for col in zip(*edges, strict=True)) if edges else ([],) * 4
    )
    return cluster_records(
        n,
        np.array(left, dtype=np.int64),
        np.array(right, dtype=np.int64),
        np.array(score, dtype=np.float64),
        np.array(tier, dtype=np.int8),
        **kw,  # type: ignore[arg-type]
    )


def ids(*values: object) -> np.ndarray:
    return np.array(values, dtype=object)


# --- exclusive attributes -------------------------------------------------------------


@pytest.mark.parametrize(("s01", "s12", "cut"), [(0.95, 0.80, 1), (0.80, 0.95, 0)])
def test_chain_with_two_resident_ids_cuts_the_weaker_link(s01: float, s12: float, cut: int) -> None:
    # 张伟(身份证A) ~ 张伟(无证件) ~ 张伟(身份证C): 不能把两个不同的有效身份证号串成一个客户
    r = run(3, [(0, 1, s01, 2), (1, 2, s12, 2)], exclusive=[ids(ID_A, None, ID_C)])
    assert r.refused_reason[cut] == EXCL
    assert r.refused_reason[1 - cut] == OK
    assert r.accepted.tolist() == [cut == 1, cut == 0]
    assert r.labels[0] != r.labels[2]
    assert r.counts == {
        "accepted": 1,
        "exclusive": 1,
        "cannot_link": 0,
        "oversize": 0,
        "redundant": 0,
    }


def test_same_resident_id_and_nulls_never_conflict() -> None:
    # 同一身份证号 + 缺失值(None / NaN / 空串 / -1) 都不构成冲突
    r = run(
        5,
        [(0, 1, 1.0, 1), (1, 2, 0.9, 2), (2, 3, 0.9, 2), (3, 4, 0.9, 2)],
        exclusive=[ids(ID_A, None, float("nan"), "  ", ID_A), np.array([7, -1, 7, -1, -1])],
    )
    assert r.labels.tolist() == [0] * 5


def test_person_and_organisation_never_together() -> None:
    # 个人客户(P) 与 机构客户(G) 同名同电话, 强规则也不能归并
    r = run(3, [(0, 1, 1.0, 1), (1, 2, 1.0, 1), (0, 2, 0.7, 2)], exclusive=[ids("P", "G", "P")])
    assert r.refused_reason.tolist() == [EXCL, EXCL, OK]
    assert r.labels.tolist() == [0, 1, 0]


def test_branch_kept_apart_from_head_office() -> None:
    # 平安某某总公司(两个来源) 与 深圳分公司: 名称相似, 但分支机构键不同
    branch_key = ids("总公司", "深圳分公司", None)
    r = run(3, [(0, 2, 1.0, 1), (1, 2, 0.9, 2)], exclusive=[branch_key])
    assert r.labels.tolist() == [0, 1, 0]
    assert r.refused_reason.tolist() == [OK, EXCL]


# --- steward decisions --------------------------------------------------------------


def test_steward_cannot_link_cuts_a_chain_of_strong_rules() -> None:
    # 强规则链 0~1~2~3, 但柜员判定 0 与 3 "非同一客户": 链在最弱(最后处理)的一环断开
    r = run(
        4,
        [(2, 3, 1.0, 1), (1, 2, 0.9, 2), (0, 1, 1.0, 1)],
        cannot_link=(np.array([0]), np.array([3])),
    )
    assert r.refused_reason.tolist() == [OK, CL, OK]
    assert r.labels.tolist() == [0, 0, 2, 2]


def test_steward_must_link_overrides_exclusive_but_not_cannot_link() -> None:
    # 人工强制归并: 身份证 A 与 B 是同一人(录入错误), 机器不得推翻; 但人工"非同一客户"优先
    exclusive = [ids(ID_A, ID_B, ID_B, ID_C, None, None, None)]
    edges = [
        (0, 1, 1.0, 0),  # 人工归并, 身份证不同也接受
        (1, 2, 0.9, 2),  # 机器: 身份证 B 已在该簇中, 可以并入
        (0, 3, 0.99, 1),  # 机器: 身份证 C 是新值, 拒绝
        (4, 6, 1.0, 0),  # 人工归并 4~6, 6~5, 但 4 与 5 人工判定非同一客户
        (6, 5, 1.0, 0),
    ]
    r = run(7, edges, exclusive=exclusive, cannot_link=(np.array([5]), np.array([4])))
    assert r.refused_reason.tolist() == [OK, OK, EXCL, OK, CL]
    assert r.labels.tolist() == [0, 0, 0, 3, 4, 5, 4]


def test_machine_edge_never_joins_two_steward_groups_with_new_id_pairs() -> None:
    # 人工组 {A,B} 与 {B,C}: 机器边会把 A 与 C 放到一起, 人工从未认可, 拒绝
    exclusive = [ids(ID_A, ID_B, ID_B, ID_C)]
    r = run(4, [(0, 1, 1.0, 0), (2, 3, 1.0, 0), (1, 2, 1.0, 1)], exclusive=exclusive)
    assert r.refused_reason.tolist() == [OK, OK, EXCL]
    assert r.labels.tolist() == [0, 0, 2, 2]


# --- size cap ----------------------------------------------------------------------------


def test_oversize_cap_breaks_a_star_and_reports_it() -> None:
    # 一个公共电话号码连出 10 条边(星形): 只保留最强的几条, 整体上报, 不整体归并
    edges = [(0, leaf, 1.0 - leaf / 100, 2) for leaf in range(1, 11)]
    r = run(11, edges, max_cluster_size=4)
    assert r.refused_reason.tolist() == [OK] * 3 + [BIG] * 7
    assert r.labels.tolist() == [0, 0, 0, 0, *range(4, 11)]
    assert r.oversized == [OversizedGroup(0, 11, (0, *range(4, 11)), 7)]


def test_oversize_cap_breaks_a_chain() -> None:
    r = run(6, [(i, i + 1, 1.0, 1) for i in range(5)], max_cluster_size=3)
    assert r.labels.tolist() == [0, 0, 0, 3, 3, 3]
    assert r.refused_reason.tolist() == [OK, OK, BIG, OK, OK]
    assert r.oversized == [OversizedGroup(0, 6, (0, 3), 1)]


def test_steward_must_link_is_exempt_from_the_cap() -> None:
    # 人工强制归并一个大集团客户: 不受簇大小上限约束, 但之后机器边不能再扩大它
    edges = [(0, i, 1.0, 0) for i in range(1, 5)] + [(4, 5, 1.0, 1)]
    r = run(6, edges, max_cluster_size=3)
    assert r.labels.tolist() == [0, 0, 0, 0, 0, 5]
    assert r.refused_reason.tolist() == [OK] * 4 + [BIG]
    assert r.oversized == [OversizedGroup(0, 6, (0, 5), 1)]


# --- determinism, redundancy, edge cases -------------------------------------------------


def test_labels_are_the_smallest_record_index() -> None:
    r = run(10, [(9, 5, 0.9, 2), (5, 3, 0.9, 2), (7, 8, 1.0, 1)])
    assert r.labels.tolist() == [0, 1, 2, 3, 4, 3, 6, 7, 7, 3]
    assert r.labels.dtype == np.int64


def test_redundant_edges_count_as_accepted() -> None:
    # 三角形 + 重复边: 多余的边标记为 redundant, 仍算 accepted
    r = run(3, [(0, 1, 1.0, 1), (1, 2, 0.9, 2), (0, 2, 0.8, 2), (1, 0, 0.5, 2)])
    assert r.refused_reason.tolist() == [OK, OK, DUP, DUP]
    assert r.accepted.all()
    assert r.counts["redundant"] == 2


def test_self_loop_is_redundant() -> None:
    r = run(2, [(1, 1, 1.0, 1)])
    assert r.refused_reason.tolist() == [DUP] and r.labels.tolist() == [0, 1]


def test_shuffled_edges_give_identical_labels() -> None:
    rng = np.random.default_rng(7)
    n, m = 60, 150
    left, right = rng.integers(0, n, m), rng.integers(0, n, m)
    score, tier = rng.choice([0.7, 0.8, 1.0], m), rng.choice(np.array([1, 2], dtype=np.int8), m)
    kw = {
        "exclusive": [rng.integers(-1, 4, n)],
        "cannot_link": (np.array([0, 1, 2]), np.array([3, 4, 5])),
        "max_cluster_size": 6,
    }
    base = cluster_records(n, left, right, score, tier, **kw)  # type: ignore[arg-type]
    for _ in range(5):
        p = rng.permutation(m)
        swapped = cluster_records(n, right[p], left[p], score[p], tier[p], **kw)  # type: ignore[arg-type]
        np.testing.assert_array_equal(swapped.labels, base.labels)
        assert swapped.counts == base.counts
        assert swapped.oversized == base.oversized


def test_empty_input() -> None:
    r = run(0, [])
    assert r.labels.shape == (0,) and r.accepted.shape == (0,) and r.oversized == []
    r = run(3, [], exclusive=[ids(ID_A, ID_B, None)], cannot_link=(np.array([0]), np.array([1])))
    assert r.labels.tolist() == [0, 1, 2]
    assert sum(r.counts.values()) == 0


def test_counts_by_rule() -> None:
    rule = np.array([0, 2, 2], dtype=np.int32)
    r = cluster_records(
        3, np.array([0, 1, 0]), np.array([1, 2, 2]), np.ones(3), np.ones(3, np.int8), rule
    )
    assert r.counts_by_rule is not None
    assert r.counts_by_rule.tolist() == [[1, 0, 0, 0, 0], [0] * 5, [1, 0, 0, 0, 1]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"right": np.array([1])}, "right has length 1"),
        ({"left": np.array([0, 5])}, "left holds 5"),
        ({"left": np.array([-1, 0])}, "left holds -1"),
        ({"left": np.array([0.0, 1.0])}, "left must be a 1-D integer array"),
        ({"score": np.array([np.nan, 1.0])}, "score holds nan"),
        ({"score": np.array([1.0])}, "score has shape"),
        ({"tier": np.array([0, -1])}, "tier holds -1"),
        ({"rule": np.array([0])}, "rule has length 1"),
        ({"exclusive": [np.array([1, 2])]}, "exclusive[0] must have one value per record"),
        ({"cannot_link": (np.array([1]), np.array([1]))}, "cannot_link pairs record 1 with itself"),
        ({"cannot_link": (np.array([1]), np.array([3]))}, "cannot_link[1] holds 3"),
        ({"max_cluster_size": 0}, "max_cluster_size must be >= 1"),
        ({"n": -1}, "n must be a non-negative int"),
    ],
)
def test_input_validation(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "n": 3,
        "left": np.array([0, 1]),
        "right": np.array([1, 2]),
        "score": np.array([1.0, 0.9]),
        "tier": np.array([1, 2], dtype=np.int8),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        cluster_records(**args)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    n: int
    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    tier: np.ndarray
    exclusive: list[np.ndarray]
    cl_a: np.ndarray
    cl_b: np.ndarray
    cap: int

    def run(self, p: np.ndarray | None = None) -> ClusterResult:
        """Cluster; with a permutation ``p``, on shuffled rows with swapped ends."""
        left, right, score, tier = self.left, self.right, self.score, self.tier
        if p is not None:
            left, right, score, tier = right[p], left[p], score[p], tier[p]
        return cluster_records(
            self.n,
            left,
            right,
            score,
            tier,
            exclusive=self.exclusive,
            cannot_link=(self.cl_a, self.cl_b),
            max_cluster_size=self.cap,
        )


@st.composite
def graphs(draw: st.DrawFn, tiers: tuple[int, ...] = (1, 2)) -> Graph:
    n = draw(st.integers(1, 12))
    node = st.integers(0, n - 1)
    edge = st.tuples(node, node, st.sampled_from([0.6, 0.8, 1.0]), st.sampled_from(tiers))
    edges = draw(st.lists(edge, max_size=30))
    exclusive = draw(st.lists(st.lists(st.integers(-1, 2), min_size=n, max_size=n), max_size=2))
    pair = st.tuples(node, node).filter(lambda p: p[0] != p[1])
    pairs = draw(st.lists(pair, max_size=4)) if n > 1 else []
    return Graph(
        n=n,
        left=np.array([e[0] for e in edges], dtype=np.int64),
        right=np.array([e[1] for e in edges], dtype=np.int64),
        score=np.array([e[2] for e in edges], dtype=np.float64),
        tier=np.array([e[3] for e in edges], dtype=np.int8),
        exclusive=[np.array(x, dtype=np.int64) for x in exclusive],
        cl_a=np.array([p[0] for p in pairs], dtype=np.int64),
        cl_b=np.array([p[1] for p in pairs], dtype=np.int64),
        cap=draw(st.integers(1, n + 1)),
    )


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_machine_edges_respect_every_constraint(g: Graph) -> None:
    r = g.run()
    labels, reason = r.labels, r.refused_reason
    # representatives: the smallest index of each cluster
    assert (labels <= np.arange(g.n)).all() and (labels[labels] == labels).all()
    sizes = np.bincount(labels)
    clusters = np.unique(labels).tolist()
    values = [
        {c: set(attr[(labels == c) & (attr >= 0)].tolist()) for c in clusters}
        for attr in g.exclusive
    ]
    for vals in values:  # (1) at most one value per exclusive attribute and cluster
        assert all(len(v) <= 1 for v in vals.values())
    assert (labels[g.cl_a] != labels[g.cl_b]).all()  # (2) cannot-links hold
    assert sizes.max() <= g.cap  # (3) size cap
    joined = labels[g.left] == labels[g.right]
    assert (joined == r.accepted).all()  # (4) accepted edges join, refused ones do not
    assert r.accepted.tolist() == [x in (OK, DUP) for x in reason.tolist()]
    assert sum(r.counts.values()) == len(g.left)
    # every refusal still holds between the final clusters: the greedy result is maximal
    forbidden = set(zip(labels[g.cl_a].tolist(), labels[g.cl_b].tolist(), strict=True))
    ends = zip(labels[g.left].tolist(), labels[g.right].tolist(), reason.tolist(), strict=True)
    for a, b, why in ends:
        if why == EXCL:
            assert any(vals[a] and vals[b] and vals[a] != vals[b] for vals in values)
        elif why == CL:
            assert (a, b) in forbidden or (b, a) in forbidden
        elif why == BIG:
            assert sizes[a] + sizes[b] > g.cap
    # order independence: shuffled rows and swapped ends give the same clusters
    shuffled = g.run(np.random.default_rng(0).permutation(len(g.left)))
    np.testing.assert_array_equal(shuffled.labels, labels)


@settings(max_examples=200, deadline=None)
@given(graphs(tiers=(0, 1, 2)))
def test_steward_cannot_links_hold_against_steward_must_links(g: Graph) -> None:
    r = g.run()
    assert (r.labels[g.cl_a] != r.labels[g.cl_b]).all()
    joined = r.labels[g.left] == r.labels[g.right]
    assert joined[r.accepted].all()
    assert joined[(g.tier == 0) & (r.refused_reason != CL)].all()  # must-links lose only to CL


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_without_constraints_clusters_are_connected_components(g: Graph) -> None:
    # (5) no exclusive attributes, no cannot-links, no binding cap: scipy is the oracle
    r = cluster_records(g.n, g.left, g.right, g.score, g.tier, max_cluster_size=g.n)
    graph = coo_matrix((np.ones(len(g.left)), (g.left, g.right)), shape=(g.n, g.n))
    _, comp = connected_components(graph, directed=False)
    expected = np.array([np.flatnonzero(comp == c).min() for c in comp])
    np.testing.assert_array_equal(r.labels, expected)
    assert r.oversized == [] and r.counts["accepted"] + r.counts["redundant"] == len(g.left)


def test_model_exclusive_attribute_binds_model_edges_only() -> None:
    """Twins of the other sex: 0 ~ 1 (gender unknown on 1) ~ 2; a chain of model
    pairs may not join the man and the woman; a strong rule still may."""
    gender = np.array(["M", None, "F"], dtype=object)
    model = cluster_records(3, np.array([0, 1]), np.array([1, 2]), np.array([0.9999, 0.9998]),
                            np.array([2, 2], dtype=np.int8), exclusive_model=[gender])
    assert model.labels.tolist() == [0, 0, 2]
    assert model.refused_reason.tolist() == [RefusedReason.ACCEPTED, RefusedReason.EXCLUSIVE]
    rule = cluster_records(3, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0]),
                           np.array([1, 1], dtype=np.int8), exclusive_model=[gender])
    assert rule.labels.tolist() == [0, 0, 0]
    # once joined by a rule, the man-and-woman cluster refuses no model edge to a man
    mixed = cluster_records(4, np.array([0, 1, 2]), np.array([2, 2, 3]),
                            np.array([1.0, 0.9999, 0.9998]), np.array([1, 2, 2], dtype=np.int8),
                            exclusive_model=[np.array(["M", None, "F", "M"], dtype=object)])
    assert mixed.labels.tolist() == [0, 0, 0, 0]
