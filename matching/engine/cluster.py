"""Constraint-aware clustering (约束聚类) of matched record pairs.

Edges are taken strongest first (tier ascending, score descending, then the
record pair) and joined with a union-find, Kruskal-style, so that when a
constraint forbids a chain A~B~C, the edge refused is the weakest one that
would close it. Constraints, strongest authority first:

- steward cannot-link (人工判定非同一客户): never in one cluster, whatever the tier;
- exclusive attributes (valid resident ID, customer type P/G, an org's branch
  identity): a union is refused unless one side's set of values contains the
  other's (or one side has none). Tier 0 (steward must-link) ignores them, so
  a steward can join two IDs; a machine edge never adds a new pair of values;
- model-exclusive attributes (a person's gender): the same, for probabilistic
  edges (tier 2) only, so a chain of model pairs never joins a man and a
  woman while a strong rule (the same valid ID and name) still may;
- ``max_cluster_size``: a machine union that would exceed it is refused and
  the would-be cluster reported; tier 0 is exempt (a steward force-merge of a
  big group stands).

Records are integer indices ``0..n-1``; the caller maps ids. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

__all__ = ["ClusterResult", "OversizedGroup", "RefusedReason", "cluster_records"]

_NULL = -1  # record holds no value of the attribute
_MULTI = -2  # component holds several values (only via tier 0); see the side dict
_CHUNK = 1 << 20  # edges converted to Python ints at a time


class RefusedReason(IntEnum):
    """Why an edge was not used to join two clusters (``0`` means it was)."""

    ACCEPTED = 0
    EXCLUSIVE = 1  # different values of an exclusive attribute
    CANNOT_LINK = 2  # a steward cannot-link, directly or through a chain
    OVERSIZE = 3  # the union would exceed max_cluster_size
    REDUNDANT = 4  # both ends already in one cluster (counted as accepted)


@dataclass(frozen=True)
class OversizedGroup:
    """Clusters that would have formed one cluster of ``size`` records but for the cap."""

    representative: int  # smallest record index in the group
    size: int
    clusters: tuple[int, ...]  # labels of the clusters it was broken into
    refused_edges: int


@dataclass(frozen=True)
class ClusterResult:
    """Cluster labels plus, per input edge (input order), what became of it.

    ``oversized`` lists, by representative, each group of clusters that edges refused
    for size would have joined: the cluster that was broken up instead of merged whole.
    """

    labels: np.ndarray  # int64[n]: smallest record index of the record's cluster
    accepted: np.ndarray  # bool[m]: reason is ACCEPTED or REDUNDANT
    refused_reason: np.ndarray  # int8[m]: a RefusedReason
    oversized: list[OversizedGroup]
    counts: dict[str, int]  # reason name in lower case -> number of edges
    counts_by_rule: np.ndarray | None = None  # int64[rules, 5]: edges per (rule, reason)


def _int_array(
    name: str, values: object, length: int | None, high: int | None, like: str = "left"
) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise ValueError(f"{name} must be a 1-D integer array, got {arr.dtype} shape {arr.shape}")
    if length is not None and len(arr) != length:
        raise ValueError(f"{name} has length {len(arr)}, expected {length} (as {like})")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or (high is not None and arr.max() >= high)):
        bad = arr[(arr < 0) | (arr >= (high if high is not None else np.inf))][0]
        raise ValueError(f"{name} holds {bad}, expected a value in [0, {high})")
    return arr


def _codes(name: str, values: np.ndarray, n: int) -> list[int]:
    """Integer codes per record, ``_NULL`` for no value (negative int, None, NaN, '')."""
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must have one value per record: length {len(arr)}, expected {n}")
    if np.issubdtype(arr.dtype, np.integer):
        return np.where(arr < 0, _NULL, arr).astype(np.int64).tolist()
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    blank = [i for i, u in enumerate(uniques) if isinstance(u, str) and not u.strip()]
    if blank:
        codes = np.where(np.isin(codes, blank), _NULL, codes)
    return np.asarray(codes, dtype=np.int64).tolist()


def _values(held: list[int], multi: dict[int, set[int]], root: int) -> set[int]:
    code = held[root]
    return multi[root] if code == _MULTI else (set() if code == _NULL else {code})


def _compatible(held: list[int], multi: dict[int, set[int]], ra: int, rb: int) -> bool:
    """Slow path, past the loop's fast checks: one side's values must contain the other's."""
    if held[ra] >= 0 and held[rb] >= 0:
        return False
    va, vb = _values(held, multi, ra), _values(held, multi, rb)
    return va <= vb or vb <= va


def _merge_values(held: list[int], multi: dict[int, set[int]], keep: int, drop: int) -> None:
    """Slow path, past the loop's fast checks: ``keep`` takes the union of both value sets."""
    if held[keep] == _NULL:
        held[keep] = held[drop]
        if held[drop] == _MULTI:
            multi[keep] = multi.pop(drop)
        return
    union = _values(held, multi, keep) | _values(held, multi, drop)
    multi.pop(drop, None)
    held[keep] = _MULTI
    multi[keep] = union


def cluster_records(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    score: np.ndarray,
    tier: np.ndarray,
    rule: np.ndarray | None = None,
    *,
    exclusive: Sequence[np.ndarray] = (),
    exclusive_model: Sequence[np.ndarray] = (),
    cannot_link: tuple[np.ndarray, np.ndarray] | None = None,
    max_cluster_size: int = 50,
) -> ClusterResult:
    """Cluster ``n`` records along the edges ``left[i]~right[i]`` under the constraints.

    ``tier``: 0 steward must-link, 1 strong rule, 2 probabilistic; ``score`` is the
    match probability (1.0 for rules); ``rule`` indexes the caller's rule names and
    only feeds ``counts_by_rule``. ``exclusive`` holds per-record attribute arrays
    (``exclusive_model`` ones bind probabilistic edges only)
    (int codes with negatives as null, or objects with None/NaN/blank as null).
    ``cannot_link`` is a pair of record-index arrays. Raises ``ValueError`` naming
    the bad argument.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if isinstance(max_cluster_size, bool) or not isinstance(max_cluster_size, int | np.integer):
        raise ValueError(f"max_cluster_size must be an int, got {max_cluster_size!r}")
    if max_cluster_size < 1:
        raise ValueError(f"max_cluster_size must be >= 1, got {max_cluster_size}")
    n, cap = int(n), int(max_cluster_size)
    lft = _int_array("left", left, None, n)
    m = len(lft)
    rgt = _int_array("right", right, m, n)
    tr = _int_array("tier", tier, m, None)
    rl = None if rule is None else _int_array("rule", rule, m, None)
    try:
        sc = np.asarray(score, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"score must be a 1-D float array: {exc}") from None
    if sc.shape != (m,):
        raise ValueError(f"score has shape {sc.shape}, expected ({m},) (as left)")
    if not np.isfinite(sc).all():
        raise ValueError(f"score holds {sc[~np.isfinite(sc)][0]}, expected finite values")
    held = [_codes(f"exclusive[{k}]", attr, n) for k, attr in enumerate(exclusive)]
    held_model = [_codes(f"exclusive_model[{k}]", attr, n)
                  for k, attr in enumerate(exclusive_model)]
    multi: list[dict[int, set[int]]] = [{} for _ in held + held_model]
    all_attrs = list(zip(held + held_model, multi, strict=True))
    attrs, attrs_model = all_attrs[: len(held)], all_attrs
    banned: dict[int, set[int]] = {}  # root -> roots it must never join (cannot-link)
    if cannot_link is not None:
        cl_a = _int_array("cannot_link[0]", cannot_link[0], None, n)
        cl_b = _int_array("cannot_link[1]", cannot_link[1], len(cl_a), n, "cannot_link[0]")
        if (cl_a == cl_b).any():
            raise ValueError(f"cannot_link pairs record {cl_a[cl_a == cl_b][0]} with itself")
        for a, b in zip(cl_a.tolist(), cl_b.tolist(), strict=True):
            banned.setdefault(a, set()).add(b)
            banned.setdefault(b, set()).add(a)

    lo, hi = np.minimum(lft, rgt), np.maximum(lft, rgt)
    order = _edge_order(n, lo, hi, sc, tr)
    parent = [-1] * n  # a root holds minus its cluster's size, any other record its parent
    reasons = bytearray(m)  # RefusedReason per edge, in processing order

    for start in range(0, m, _CHUNK):  # chunks bound the memory of the Python lists
        part = order[start : start + _CHUNK]
        edges = zip(lo[part].tolist(), hi[part].tolist(), tr[part].tolist(), strict=True)
        for i, (ra, rb, t) in enumerate(edges, start):  # hot loop: flat, reasons as literals
            while (p := parent[ra]) >= 0:  # find, with path halving
                if (g := parent[p]) < 0:
                    ra = p
                    break
                parent[ra] = ra = g
            while (p := parent[rb]) >= 0:
                if (g := parent[p]) < 0:
                    rb = p
                    break
                parent[rb] = rb = g
            if ra == rb:
                reasons[i] = 4
                continue
            if banned and (ba := banned.get(ra)) is not None and rb in ba:
                reasons[i] = 2
                continue
            if t != 0:
                conflict = False
                for h, mv in (attrs_model if t >= 2 else attrs):  # -1: no value; two equal
                    # single values always agree
                    if (ha := h[ra]) != -1 and (hb := h[rb]) != -1 and (ha != hb or ha < 0):
                        if not _compatible(h, mv, ra, rb):
                            conflict = True
                            break
                if conflict:
                    reasons[i] = 1
                    continue
                if parent[ra] + parent[rb] < -cap:
                    reasons[i] = 3
                    continue
            if parent[ra] > parent[rb]:  # union by size: ra becomes the larger root
                ra, rb = rb, ra
            parent[ra] += parent[rb]
            parent[rb] = ra
            if banned and (bb := banned.pop(rb, None)) is not None:
                for q in bb:  # rb is the smaller side: O(log n) moves per cannot-link end
                    bq = banned[q]
                    bq.discard(rb)
                    bq.add(ra)
                if (ba := banned.get(ra)) is None:
                    banned[ra] = bb
                else:
                    ba |= bb
            for h, mv in all_attrs:
                if (hb := h[rb]) != -1 and (hb != h[ra] or hb < 0):
                    _merge_values(h, mv, ra, rb)

    labels = _labels(np.asarray(parent, dtype=np.int64))
    reason = np.empty(m, dtype=np.int8)
    reason[order] = np.frombuffer(reasons, dtype=np.int8)
    per_reason = np.bincount(reason, minlength=len(RefusedReason))
    by_rule = None
    if rl is not None:
        width = len(RefusedReason)
        by_rule = np.bincount(rl * width + reason, minlength=(int(rl.max(initial=-1)) + 1) * width)
        by_rule = by_rule.reshape(-1, width).astype(np.int64)
    too_big = reason == RefusedReason.OVERSIZE
    return ClusterResult(
        labels=labels,
        accepted=(reason == RefusedReason.ACCEPTED) | (reason == RefusedReason.REDUNDANT),
        refused_reason=reason,
        oversized=_oversized(labels, lft[too_big], rgt[too_big]),
        counts={r.name.lower(): int(per_reason[r]) for r in RefusedReason},
        counts_by_rule=by_rule,
    )


def _edge_order(
    n: int, lo: np.ndarray, hi: np.ndarray, score: np.ndarray, tier: np.ndarray
) -> np.ndarray:
    """Tier ascending, score descending, then (lo, hi); stable for exact duplicates."""
    if n <= 3_000_000_000:  # lo * n + hi fits in int64; one argsort beats lexsort
        order = np.argsort(lo * n + hi, kind="stable")
    else:
        order = np.lexsort((hi, lo))
    order = order[np.argsort(-score[order], kind="stable")]
    return order[np.argsort(tier[order], kind="stable")]


def _labels(parent: np.ndarray) -> np.ndarray:
    """Smallest record index of each record's tree, from a parent array (roots < 0)."""
    parent = np.where(parent < 0, np.arange(len(parent)), parent)
    while True:  # pointer jumping until every record points at its root
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    if parent.size == 0:
        return parent
    _, first, inverse = np.unique(parent, return_index=True, return_inverse=True)
    return first.astype(np.int64)[inverse]


def _oversized(labels: np.ndarray, lft: np.ndarray, rgt: np.ndarray) -> list[OversizedGroup]:
    """Group the clusters joined by cap-refused edges into the clusters they would have made."""
    if not len(lft):
        return []
    la, lb = labels[lft], labels[rgt]
    up = list(range(len(labels)))  # union-find over cluster labels, the smaller label is root
    for a, b in zip(la.tolist(), lb.tolist(), strict=True):
        while (p := up[a]) != a:
            up[a] = a = up[p]
        while (p := up[b]) != b:
            up[b] = b = up[p]
        if a != b:
            up[max(a, b)] = min(a, b)
    group = _labels(np.asarray(up, dtype=np.int64))  # label -> smallest label of its group
    clusters = np.unique(np.concatenate([la, lb]))
    sizes = np.bincount(labels)[clusters]
    refused = np.bincount(group[la], minlength=len(labels))
    by_group = np.argsort(group[clusters], kind="stable")
    clusters, sizes = clusters[by_group], sizes[by_group]
    reps, starts = np.unique(group[clusters], return_index=True)
    ends = [*starts[1:].tolist(), len(clusters)]
    return [
        OversizedGroup(rep, int(sizes[s:e].sum()), tuple(clusters[s:e].tolist()), int(refused[rep]))
        for rep, s, e in zip(reps.tolist(), starts.tolist(), ends, strict=True)
    ]
