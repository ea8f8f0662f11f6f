"""One matching run: strong rules, model scores, constrained clustering, suspects.

Input: a table of standardised records (``OUTPUT_COLUMNS``) in a backend.
Output: per record its cluster and how it got there; review tasks (one per
suspect group); every scored pair with its per-comparison match weights.

Tiers (config/matching.yaml): steward must-links (0) and strong rules (1)
merge first, then model pairs at or above ``auto_merge`` (2), all through
:func:`cluster_records`, which refuses any union a cannot-link forbids.
Pairs between ``suspect`` and ``auto_merge``, machine pairs the constraints
refused, and organisations grouped by weak rules become review tasks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matching.engine.backend import Backend
from matching.engine.cluster import RefusedReason, cluster_records
from matching.engine.config import EngineConfig, Rule
from matching.engine.edges import EdgeParts, Edges, RecordIds, RuleNames, exclusive_codes
from matching.engine.features import (
    HEAD_OFFICE,
    organisation_features_sql,
    person_features_sql,
)
from matching.engine.guard import guard_holds
from matching.engine.model import TrainedModel, predict_pairs
from matching.exceptions import ConfigError
from matching.vocabulary import CustomerType, LinkType, TaskType

__all__ = ["MatchResult", "Decisions", "run_matching", "rule_pairs_sql", "MEMBER_RULE",
           "branch_gate", "WEAK_GROUP_MAX"]

log = logging.getLogger(__name__)

TIER_STEWARD, TIER_RULE, TIER_MODEL = 0, 1, 2
#: The rule of the tier-0 edges that hold existing customers together.
MEMBER_RULE = "existing"
_FEATURES = {
    "P": ("persons", person_features_sql),
    "G": ("organisations", organisation_features_sql),
}
#: A weak-rule group larger than this (a call centre's landline) says nothing.
WEAK_GROUP_MAX = 20
#: A review task holds at most this many customers; a larger suspect group is split.
_TASK_MAX_CLUSTERS = 12


@dataclass(frozen=True)
class Decisions:
    """Steward judgements as record-id pairs: every run obeys them."""

    must_link: tuple[tuple[str, str], ...] = ()
    cannot_link: tuple[tuple[str, str], ...] = ()


@dataclass
class MatchResult:
    records: pd.DataFrame  # unique_id, customer_type, cluster_id, link_type, rule, model_version
    tasks: pd.DataFrame    # task_id, task_type, unique_id, cluster_id
    pairs: pa.Table        # scored pairs with match weights (the "why")
    rule_pairs: pd.DataFrame  # unique_id_l, unique_id_r, rule: the strong rule that fired
    model_versions: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def rule_pairs_sql(table: str, rule: Rule, max_group: int | None = None,
                   focus: str | None = None) -> str:
    """Portable SQL: the record pairs on which every column of ``rule`` is equal and
    present (with ``focus``: only pairs where one side has ``focus`` = 1)."""
    cols = rule.equal
    present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    source = table
    if max_group is not None:
        part = ", ".join(cols)
        source = (f"(SELECT *, count(*) OVER (PARTITION BY {part}) AS _group_n "
                  f"FROM {table} WHERE {present})")
        present = f"_group_n <= {max_group}"
    on = " AND ".join(f"l.{c} = r.{c}" for c in cols)
    if focus:
        on += f" AND (l.{focus} = 1 OR r.{focus} = 1)"
    return (
        f"SELECT l.unique_id AS unique_id_l, r.unique_id AS unique_id_r, '{rule.name}' AS rule "
        f"FROM (SELECT * FROM {source} WHERE {present}) l "
        f"JOIN (SELECT * FROM {source} WHERE {present}) r "
        f"ON {on} AND l.unique_id < r.unique_id"
    )


def _stage(name: str) -> None:
    """Mark the start of a stage of the run (read by bench/match_memory.py's sampler)."""
    log.debug("match stage: %s", name, extra={"match_stage": name})


def _rule_pairs(backend: Backend, sqls: list[str]) -> pa.Table:
    """``unique_id_l, unique_id_r, _rank``: each pair once, with the index of the first
    rule (in config order) that found it, whatever order the rows came in."""
    union = " UNION ALL ".join(f"(SELECT unique_id_l, unique_id_r, {i} AS _rank FROM ({s}) q{i})"
                               for i, s in enumerate(sqls))
    return backend.fetch_arrow(f"SELECT unique_id_l, unique_id_r, min(_rank) AS _rank FROM "
                               f"({union}) u GROUP BY unique_id_l, unique_id_r")


def _add_rule_pairs(parts: EdgeParts, pairs: pa.Table, codes: list[int], score: float,
                    tier: int) -> None:
    rank = pairs.column("_rank").to_numpy(zero_copy_only=False).astype(np.int64)
    parts.add(pairs.column("unique_id_l"), pairs.column("unique_id_r"), score, tier,
              np.asarray(codes, dtype=np.int32)[rank])


def run_matching(backend: Backend, std_table: str, config: EngineConfig,
                 models: dict[str, TrainedModel], decisions: Decisions | None = None,
                 *, focus: str | None = None, members: pd.DataFrame | None = None
                 ) -> MatchResult:
    """Match every record of ``std_table`` (standardised records, all types).

    Incremental use (the nightly batch): ``focus`` names a 0/1 column of
    ``std_table``; only pairs touching a focused (new or changed) record are
    generated, ruled on and scored. ``members`` (``unique_id``, ``customer_no``)
    are the existing customers: their records start joined (tier 0), so the
    result is the existing customers plus what the focused records change.

    Memory: ids stay in Arrow and pairs become integer arrays (:mod:`.edges`); the
    scored pairs are memory-mapped on DuckDB (``Backend.fetch_result``).
    """
    decisions = decisions or Decisions()
    extra = (focus,) if focus else ()
    timings: dict[str, float] = {}
    ids: list[pa.Table] = []
    rules = RuleNames()
    steward = rules.code("steward")
    edges = EdgeParts()
    # steward must-links first: where one conflicts with a cannot-link through an existing
    # customer, the existing customer gives way, not the steward's judgement
    if decisions.must_link:
        edges.add([a for a, _ in decisions.must_link], [b for _, b in decisions.must_link],
                  1.0, TIER_STEWARD, steward)
    _member_edges(edges, members, rules.code(MEMBER_RULE))
    suspects = EdgeParts()
    pair_tables: list[pa.Table] = []
    versions: dict[str, str] = {}
    for ctype, (table, features_sql) in _FEATURES.items():
        tcfg = config.for_type(ctype)
        t0 = time.perf_counter()
        _stage(f"{ctype} features")
        backend.create_table(table, features_sql(std_table, extra))
        n = backend.count(table)
        ids.append(backend.fetch_arrow(
            "SELECT unique_id, customer_type, resident_id_or_code, branch_state, gender FROM ("
            + _exclusive_sql(ctype, table) + ")"))
        if n == 0:
            continue
        _stage(f"{ctype} strong rules")
        if tcfg.strong_rules:
            _add_rule_pairs(edges, _rule_pairs(backend, [rule_pairs_sql(table, r, focus=focus)
                                                         for r in tcfg.strong_rules]),
                            [rules.code(r.name) for r in tcfg.strong_rules], 1.0, TIER_RULE)
        timings[f"{ctype}_rules"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        model = models.get(ctype)
        if model is None:
            raise ConfigError(f"no trained {table} model; run `ecif train` on data with {table}")
        versions[ctype] = model.version
        _stage(f"{ctype} predict")
        scored = predict_pairs(backend, table, model, model.suspect(tcfg.suspect), focus)
        _stage(f"{ctype} fetch pairs")
        pairs = backend.fetch_result(scored)
        del scored
        pair_tables.append(pairs.append_column(
            "customer_type", pa.repeat(pa.scalar(ctype, pa.string()), pairs.num_rows)))
        timings[f"{ctype}_score"] = time.perf_counter() - t0
        _stage(f"{ctype} auto/suspect split")
        score = pairs.column("match_probability").to_numpy(zero_copy_only=False).astype(
            np.float64, copy=False)
        auto_merge = model.auto_merge(tcfg.auto_merge)
        is_auto = (score >= auto_merge) & guard_holds(pairs, tcfg.guard) & branch_gate(pairs)
        ids_l, ids_r = pairs.column("unique_id_l"), pairs.column("unique_id_r")
        auto, band = pa.array(is_auto), pa.array(~is_auto)
        edges.add(ids_l.filter(auto), ids_r.filter(auto), score[is_auto], TIER_MODEL,
                  rules.code(f"model:{model.version}"))
        suspects.add(ids_l.filter(band), ids_r.filter(band), score[~is_auto], TIER_MODEL, 0)
        del pairs, ids_l, ids_r, score
        if tcfg.weak_rules:
            _stage(f"{ctype} weak rules")
            weak = _rule_pairs(backend, [rule_pairs_sql(table, r, WEAK_GROUP_MAX, focus)
                                         for r in tcfg.weak_rules])
            suspects.add(weak.column("unique_id_l"), weak.column("unique_id_r"), 0.0,
                         TIER_MODEL, 0)

    t0 = time.perf_counter()
    _stage("edges")
    # sorted, so that ties between edges are broken the same way on every run
    table_ids = pa.concat_tables(ids, promote_options="permissive").sort_by("unique_id")
    del ids
    record_ids = RecordIds(table_ids.column("unique_id"))
    records = pd.DataFrame({c: table_ids.column(c).to_pandas()
                            for c in ("unique_id", "customer_type", "branch_state")})
    exclusive = [exclusive_codes(table_ids.column(c))
                 for c in ("customer_type", "resident_id_or_code", "branch_state", "gender")]
    del table_ids
    all_edges = edges.resolve(record_ids)
    del edges
    # engines return rows in no fixed order: fix one, so that ties (which rule a record is
    # linked by, which edge a constraint refuses) fall the same way on every run
    order = np.lexsort((rules.sort_rank()[all_edges.rule], all_edges.right, all_edges.left,
                        all_edges.tier))
    all_edges = all_edges.take(order)
    del order
    cannot = None
    if decisions.cannot_link:
        cannot = (record_ids.positions([a for a, _ in decisions.cannot_link]),
                  record_ids.positions([b for _, b in decisions.cannot_link]))
    _stage("cluster")
    result = cluster_records(
        len(records), all_edges.left, all_edges.right, all_edges.score, all_edges.tier,
        exclusive=exclusive[:3], exclusive_model=exclusive[3:],
        cannot_link=cannot, max_cluster_size=config.max_cluster_size,
    )
    del exclusive
    timings["cluster"] = time.perf_counter() - t0
    _stage("link types")
    records["cluster_index"] = result.labels
    records["cluster_id"] = records["unique_id"].to_numpy()[result.labels]
    _link_types(records, all_edges, rules, result.accepted)

    # Refused machine merges (a constraint or the size cap) are questions for a steward.
    _stage("tasks")
    refused = all_edges.take((~result.accepted) & (all_edges.tier > TIER_STEWARD)
                             & (result.refused_reason != RefusedReason.CANNOT_LINK))
    asked = suspects.resolve(record_ids)
    del suspects, record_ids
    tasks = _suspect_tasks(records, np.concatenate([asked.left, refused.left]),
                           np.concatenate([asked.right, refused.right]),
                           np.concatenate([asked.score, refused.score]), cannot)
    counts = {
        "records": len(records),
        "clusters": int(records["cluster_id"].nunique()),
        "strong_rule_edges": int((all_edges.tier == TIER_RULE).sum()),
        "steward_edges": int((all_edges.rule == steward).sum()),
        "model_auto_edges": int((all_edges.tier == TIER_MODEL).sum()),
        "refused_edges": int((~result.accepted).sum()),
        "oversized_groups": len(result.oversized),
        "tasks": int(tasks["task_id"].nunique()) if len(tasks) else 0,
        "records_in_tasks": len(tasks),
    }
    _stage("result")
    pairs_all = pa.concat_tables(pair_tables, promote_options="permissive") if pair_tables \
        else pa.table({})
    by_rule = all_edges.take(all_edges.tier == TIER_RULE)
    uid = records["unique_id"].to_numpy()
    rule_pairs = pd.DataFrame({"unique_id_l": uid[by_rule.left],
                               "unique_id_r": uid[by_rule.right],
                               "rule": rules.as_objects(by_rule.rule)})
    return MatchResult(records.drop(columns=["cluster_index"]), tasks,
                       pairs_all, rule_pairs, versions, counts, timings)


def branch_gate(pairs: pa.Table) -> np.ndarray:
    """False where a record of unknown branch state (no marker, no valid code of
    its own) meets a branch on anything but that branch's own identifier (the
    organisation code as keyed, valid or not): a marker-less record reads like
    the head office, so only the branch's identifier says it is the branch.
    True everywhere for persons (no branch state)."""
    cols = ("branch_state_l", "branch_state_r", "org_code_any_l", "org_code_any_r")
    if not set(cols) <= set(pairs.column_names):
        return np.ones(pairs.num_rows, dtype=bool)
    # Arrow's kernels, no pandas: the real-time API calls this for every organisation
    # asked about (pandas' Series cost ~1 ms there); a comparison with a null is False
    bl, br, cl_, cr = (pairs.column(c).cast(pa.string()) for c in cols)
    unknown_l, unknown_r = pc.is_null(bl), pc.is_null(br)
    branch_l = pc.fill_null(pc.not_equal(bl, HEAD_OFFICE), False)
    branch_r = pc.fill_null(pc.not_equal(br, HEAD_OFFICE), False)
    same_code = pc.fill_null(pc.equal(cl_, cr), False)
    refused = pc.or_(pc.and_(unknown_l, branch_r), pc.and_(unknown_r, branch_l))
    gate: np.ndarray = pc.or_(pc.invert(refused), same_code).to_numpy()
    return gate.astype(bool, copy=False)


def _member_edges(edges: EdgeParts, members: pd.DataFrame | None, rule: int) -> None:
    """Tier-0 edges joining each existing customer's records (a star on its first)."""
    if members is None or members.empty:
        return
    # sorted by Arrow (a pandas sort of two string columns: 3.6 s for 1M records)
    table = pa.table({"c": pa.array(members["customer_no"].to_numpy(), pa.string()),
                      "u": pa.array(members["unique_id"].to_numpy(), pa.string())})
    table = table.take(pc.sort_indices(table, [("c", "ascending"), ("u", "ascending")]))
    customer = table["c"].to_numpy(zero_copy_only=False)
    unique_id = table["u"].to_numpy(zero_copy_only=False)
    starts = np.r_[True, customer[1:] != customer[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(customer)), 0))
    keep = ~starts
    edges.add(pa.array(unique_id[first[keep]], pa.string()),
              pa.array(unique_id[keep], pa.string()), 1.0, TIER_STEWARD, rule)


def _exclusive_sql(ctype: str, table: str) -> str:
    """Per record: the identifier two records may not differ in, the branch state,
    and the gender (which model pairs may not join)."""
    if ctype == "P":
        return (f"SELECT unique_id, customer_type, resident_id AS resident_id_or_code, "
                f"CAST(NULL AS VARCHAR) AS branch_state, gender FROM {table}")
    return (f"SELECT unique_id, customer_type, org_code AS resident_id_or_code, "
            f"branch_state, CAST(NULL AS VARCHAR) AS gender FROM {table}")


def _link_types(records: pd.DataFrame, edges: Edges, rules: RuleNames,
                accepted: np.ndarray) -> None:
    """How each record joined its cluster: the strongest accepted edge touching it."""
    n = len(records)
    best_tier = np.full(n, 9, dtype=np.int8)
    best_rule = np.full(n, -1, dtype=np.int64)
    tiers = edges.tier
    order = np.argsort(-tiers, kind="stable")  # weakest first, strongest written last
    sel = order[accepted[order]]
    for side in (edges.left, edges.right):
        best_tier[side[sel]] = np.minimum(best_tier[side[sel]], tiers[sel])
        best_rule[side[sel]] = edges.rule[sel]
    labels = records["cluster_index"].to_numpy()
    size = np.bincount(labels, minlength=n)[labels]
    kinds = np.array([LinkType.NEW.value, LinkType.MANUAL.value, LinkType.AUTO_RULE.value,
                      LinkType.AUTO_MODEL.value], dtype=object)
    records["link_type"] = kinds[np.select(
        [size == 1, best_tier == TIER_STEWARD, best_tier == TIER_RULE], [0, 1, 2], 3)]
    best_rule[size == 1] = -1
    names = np.array([*rules.names, None], dtype=object)  # -1: no rule
    records["rule"] = names[best_rule]


def _suspect_tasks(records: pd.DataFrame, left: np.ndarray, right: np.ndarray,
                   score: np.ndarray,
                   cannot: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Group suspect pairs (record positions, score) into tasks: one per connected group
    of customers. Two customers a steward has already said are different are not asked
    about again."""
    columns = ["task_id", "task_type", "unique_id", "cluster_id"]
    if not len(left):
        return pd.DataFrame(columns=columns)
    cluster = records["cluster_index"].to_numpy()
    a = cluster[left]
    b = cluster[right]
    keep = a != b
    if cannot is not None:
        ca, cb = cluster[cannot[0]], cluster[cannot[1]]
        said = set(zip(np.minimum(ca, cb).tolist(), np.maximum(ca, cb).tolist(), strict=True))
        lo, hi = np.minimum(a, b).tolist(), np.maximum(a, b).tolist()
        keep &= np.array([(x, y) not in said for x, y in zip(lo, hi, strict=True)], dtype=bool)
    if not keep.any():
        return pd.DataFrame(columns=columns)
    a, b = a[keep], b[keep]
    score = score[keep]
    nodes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    grouped = cluster_records(len(nodes), inverse[: len(a)], inverse[len(a):], score,
                              np.full(len(a), TIER_MODEL, np.int8),
                              max_cluster_size=_TASK_MAX_CLUSTERS)
    group_of = pd.Series(nodes[grouped.labels], index=nodes)
    in_task = records[records["cluster_index"].isin(nodes)].copy()
    in_task["group"] = group_of.reindex(in_task["cluster_index"]).to_numpy()
    sizes = in_task.groupby("group")["cluster_index"].transform("nunique")
    in_task = in_task[sizes > 1]
    ctype = in_task.groupby("group")["customer_type"].transform("first")
    in_task["task_type"] = np.where(ctype == CustomerType.ORGANISATION, TaskType.ORG_SUSPECT_GROUP,
                                     TaskType.PERSON_SUSPECT)
    first_id = in_task.groupby("group")["unique_id"].transform("min")
    in_task["task_id"] = "T-" + first_id.astype(str)
    return in_task[columns].sort_values(["task_id", "cluster_id", "unique_id"],
                                        ignore_index=True)
