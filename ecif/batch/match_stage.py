"""Stage 2: match the records in scope against every customer and each other.

Incremental: all standardised records are loaded into DuckDB (the engine
needs them as candidates and for term frequencies), but only pairs touching
a record in scope are generated and scored. Existing customers start joined
(tier 0); a machine-linked record whose identity fields changed is detached
and matched afresh. With ``ECIF_ENGINE=spark`` (``ecif batch --engine spark``)
the records go to Spark as Parquet and the rules and scoring run there
(docs/spark.md); clustering and the store writes are the same. The outcome
(the records of every cluster that changes, suspect groups, scored pairs) is
written as this run's plan in one transaction, for the later stages and for a re-run after a crash.
"""

from __future__ import annotations

import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, or_, select, true, update

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import in_batches, insert_rows, read_frame, table_of
from ecif.services.base import BATCH
from ecif.services.decisions import live_decisions
from ecif.services.model_registry import active_models, save_version
from ecif.services.realtime_index import index_frames, index_is_current, write_index
from ecif.services.retention import previous_run_start
from ecif.snapshot import FOCUS, STD_TABLE, export_records, load_records, read_columnar
from matching.engine.backend import Backend, DuckDBBackend
from matching.engine.engines import open_backend
from matching.engine.features import organisation_features_sql, person_features_sql
from matching.engine.model import TrainedModel
from matching.engine.run import MEMBER_RULE, Decisions, MatchResult, run_matching
from matching.engine.workflow import train_table
from matching.vocabulary import (
    BatchStage,
    DecisionScope,
    Judgement,
    LinkType,
    PairDecision,
    TaskStatus,
    TaskType,
)
from models.batch import BatchRun, MatchPair, PlannedLink, PlannedTask
from models.customer import Link
from models.decision import Decision
from models.source_record import SourceRecord
from models.task import ReviewTask, TaskMember

__all__ = ["match_stage"]

log = logging.getLogger(__name__)



def match_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.MATCH, "start")
    with ctx.engine.connect() as conn:
        focus_n = int(read_frame(conn, f"SELECT count(*) AS n FROM source_record "
                                       f"WHERE {ctx.in_scope()}")["n"].iloc[0])
        decided = _decided_since_last_run(conn, ctx.run_id)
        # a store upgraded to the API's index (0005_api), or whose index was built for
        # other rules, gets it whole from its next batch
        unindexed = not index_is_current(conn, ctx.config) and conn.execute(
            select(SourceRecord.id).join(Link, Link.record_id == SourceRecord.id).limit(1)
        ).first() is not None
    if focus_n == 0 and not decided and not unindexed:
        with ctx.engine.begin() as conn:
            ctx.complete(conn, BatchStage.MATCH, {"records_in_scope": 0})
        return {"records_in_scope": 0}
    with tempfile.TemporaryDirectory(prefix="ecif-batch-") as tmp, ExitStack() as stack:
        db = DuckDBBackend(temp_directory=Path(tmp))
        ctx.say(f"match: loading records ({focus_n} in scope)")
        t0 = time.perf_counter()
        with ctx.engine.connect() as conn:
            total = load_records(conn, db, ctx.watermark_to, ctx.in_scope(), decided)
            links = read_columnar(conn, (
                "SELECT s.id AS record_id, s.record_key AS unique_id, l.customer_no, "
                "l.link_type, l.identity_key AS link_identity, s.identity_key, "
                f"CASE WHEN {ctx.in_scope('s')} THEN 1 ELSE 0 END AS focus "
                "FROM link l JOIN source_record s ON s.id = l.record_id"),
                expected_rows=total - focus_n)
            decisions = live_decisions(conn)
            in_open_tasks = read_frame(conn, select(TaskMember.record_id).distinct().join(
                ReviewTask, ReviewTask.id == TaskMember.task_id).where(
                ReviewTask.status == TaskStatus.OPEN))["record_id"]
            models = active_models(conn)
        # the match itself runs on DuckDB or on Spark (ctx.spark); DuckDB keeps the
        # store's records for what follows (record ids, which decisions apply)
        match_db: Backend = db
        if ctx.spark is not None:
            ctx.say(f"match: on Spark ({ctx.spark.master})")
            match_db = stack.enter_context(open_backend(
                ctx.spark, records=total, focus_records=focus_n + len(decided)))
            export_records(db, match_db, Path(ctx.spark.staging_dir or tmp))
        loaded_s = time.perf_counter() - t0
        changed = links["focus"].eq(1) & links["link_identity"].ne(links["identity_key"])
        detached = changed & links["link_type"].ne(LinkType.MANUAL)
        manual_changed = links[changed & links["link_type"].eq(LinkType.MANUAL)]
        members = links.loc[~detached, ["unique_id", "customer_no"]]

        with_type = set(db.fetch_arrow(
            f"SELECT DISTINCT customer_type FROM {STD_TABLE}").column(0).to_pylist())
        missing = [t for t in ("P", "G") if t in with_type and t not in models]
        trained: dict[str, TrainedModel] = {}
        if missing:
            ctx.say(f"match: this store has no model for {', '.join(missing)}; training on "
                    f"its {total} records")
            trained = train_table(match_db, STD_TABLE, ctx.config, missing, save=False)
            models.update(trained)
        ctx.say("match: rules, scoring, clustering")
        result = run_matching(match_db, STD_TABLE, ctx.config, models,
                              _known(decisions, db), focus=FOCUS, members=members)
        id_map = db.fetch_arrow(f"SELECT source_system || ':' || source_customer_id AS k, "
                                f"record_id FROM {STD_TABLE}").to_pandas()
        if match_db is not db:  # the index below reads the feature tables in DuckDB
            for table, features_sql in (("persons", person_features_sql),
                                        ("organisations", organisation_features_sql)):
                db.create_table(table, features_sql(STD_TABLE, (FOCUS,)))
        # the real-time API's index: keys of the records in scope, term frequencies
        with ctx.engine.connect() as conn:
            full_index = not index_is_current(conn, ctx.config)
        index = index_frames(db, pd.Series(id_map["record_id"].to_numpy(),
                                           index=id_map["k"].to_numpy()),
                             None if full_index else FOCUS, ctx.config)
    ids = pd.Series(id_map["record_id"].to_numpy(), index=id_map["k"].to_numpy())
    plan, planned_tasks = _plan(result, links, detached, manual_changed, ids)
    asked = set(in_open_tasks.astype(int)) | set(planned_tasks["record_id"].dropna().astype(int))
    pairs = _pair_rows(result, ctx.run_id, _Kept(
        set(ids.index[ids.isin(asked)]),
        {f"{a}\x1f{b}" for x, y in zip(decisions["left"], decisions["right"], strict=True)
         for a, b in ((x, y), (y, x))}))
    counts: dict[str, Any] = {
        "records_in_scope": focus_n, "records_total": total,
        "records_named_by_decisions": len(decided),
        "detached_identity_changed": int(detached.sum()),
        "manual_identity_changed": len(manual_changed),
        "planned_links": len(plan), "planned_task_records": len(planned_tasks),
        "pairs_kept": sum(len(p) for p in pairs), **result.counts,
        **{f"seconds_{k}": round(v, 1) for k, v in result.timings.items()},
        "seconds_load": round(loaded_s, 1),
    }
    with ctx.engine.begin() as conn:
        for model in (PlannedLink, PlannedTask):
            conn.execute(delete(model).where(model.run_id == ctx.run_id))
        conn.execute(delete(MatchPair).where(MatchPair.run_id == ctx.run_id))
        plan_rows = plan.assign(run_id=ctx.run_id)[
            ["run_id", "record_id", "cluster", "link_type", "rule", "model_version"]]
        insert_rows(conn, table_of(PlannedLink), plan_rows)
        insert_rows(conn, table_of(PlannedTask),
                    planned_tasks.assign(run_id=ctx.run_id))
        for part in pairs:
            insert_rows(conn, table_of(MatchPair), part)
        for new in trained.values():
            save_version(conn, new, actor=BATCH,
                         counts={"trained_by_run": ctx.run_id, "records": new.records})
        _save_versions(conn, ctx, result.model_versions)
        write_index(conn, index)
        ctx.complete(conn, BatchStage.MATCH, counts)
    return counts


def _decided_since_last_run(conn: Connection, run_id: int) -> list[str]:
    """Record keys named by steward decisions made or withdrawn since the last finished
    run started: their customers are matched again, so that the decisions hold."""
    last = previous_run_start(conn, run_id)
    changed = read_frame(conn, select(Decision.scope, Decision.left_key, Decision.right_key)
                         .where(true() if last is None else or_(
                             Decision.created_at >= last, Decision.deleted_at >= last)))
    if changed.empty:
        return []
    record = changed["scope"].eq(DecisionScope.RECORD)
    customer = changed["scope"].eq(DecisionScope.CUSTOMER)
    keys = set(changed.loc[record, "left_key"]) | set(changed.loc[record, "right_key"])
    customers = set(changed.loc[customer, "left_key"]) | set(changed.loc[customer, "right_key"])
    for batch in in_batches(sorted(customers)):
        keys |= set(read_frame(conn, select(SourceRecord.record_key).join(
            Link, Link.record_id == SourceRecord.id).where(Link.customer_no.in_(batch)))[
            "record_key"])
    return sorted(keys)


def _known(decisions: pd.DataFrame, db: DuckDBBackend) -> Decisions:
    """Decisions whose two records are both in the store (the rest cannot apply yet)."""
    if decisions.empty:
        return Decisions()
    keys = set(db.fetch_arrow(
        f"SELECT source_system || ':' || source_customer_id FROM {STD_TABLE}"
    ).column(0).to_pylist())
    ok = decisions[decisions["left"].isin(keys) & decisions["right"].isin(keys)]
    pairs = list(zip(ok["left"], ok["right"], ok["judgement"], strict=True))
    return Decisions(
        must_link=tuple((a, b) for a, b, j in pairs if j == Judgement.MUST_LINK),
        cannot_link=tuple((a, b) for a, b, j in pairs if j == Judgement.CANNOT_LINK))


def _plan(result: MatchResult, links: pd.DataFrame, detached: pd.Series,
          manual_changed: pd.DataFrame, ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of every cluster that changes (with their cluster = smallest record
    key), and the suspect groups to open or refresh as tasks."""
    rec = result.records[["unique_id", "cluster_id", "link_type", "rule"]].copy()
    # run_matching labels a cluster by its smallest record key already
    rec["cluster"] = rec["cluster_id"]
    by_key = links.set_index("unique_id")
    member = ~detached.to_numpy()
    member_no = pd.Series(links["customer_no"].to_numpy()[member],
                          index=links["unique_id"].to_numpy()[member])
    rec["member_no"] = member_no.reindex(rec["unique_id"]).to_numpy()
    at = by_key.index.get_indexer(pd.Index(rec["unique_id"]))  # -1: not linked before
    rec["prior_no"] = _take(by_key["customer_no"].to_numpy(), at)
    cluster, _ = pd.factorize(rec["cluster"])
    n = int(cluster.max()) + 1 if len(cluster) else 0
    is_member = rec["member_no"].notna().to_numpy()
    # a cluster changes when it holds a record not linked before (new or detached), ...
    flag = np.bincount(cluster[~is_member], minlength=n) > 0
    # ... records of two or more customers (a merge), ...
    member_code, _ = pd.factorize(rec["member_no"])
    width = max(int(member_code.max()) + 1 if len(member_code) else 1, 1)
    pairs = np.unique(cluster[is_member].astype(np.int64) * width + member_code[is_member])
    flag |= np.bincount(pairs // width, minlength=n) > 1
    # ... or part of a customer whose records (detached ones too) end in two clusters
    prior_code, _ = pd.factorize(rec["prior_no"])
    has_prior = prior_code >= 0
    spans = np.unique(prior_code[has_prior].astype(np.int64) * max(n, 1) + cluster[has_prior])
    split_nos = np.flatnonzero(np.bincount(spans // max(n, 1)) > 1)
    flag[cluster[has_prior & np.isin(prior_code, split_nos)]] = True
    changed = flag[cluster]
    plan = rec[changed].copy()
    plan_member = plan["member_no"].notna()
    old_type = _take(by_key["link_type"].to_numpy(), at[changed])
    plan["link_type"] = pd.Series(old_type, index=plan.index).where(plan_member,
                                                                    plan["link_type"])
    plan["rule"] = plan["rule"].where(plan["rule"].ne(MEMBER_RULE), None)
    rule = plan["rule"].fillna("").astype(str)
    plan["model_version"] = rule.str[6:].where(rule.str.startswith("model:"), None)
    plan["record_id"] = ids.reindex(plan["unique_id"]).to_numpy()
    plan = plan.astype(object).where(plan.notna(), None)

    tasks = result.tasks.rename(columns={"task_id": "group_key"})
    tasks = tasks.assign(record_id=ids.reindex(tasks["unique_id"]).to_numpy())[
        ["group_key", "record_id", "task_type"]]
    if len(manual_changed):
        customers = links[links["customer_no"].isin(manual_changed["customer_no"])]
        first = manual_changed.groupby("customer_no")["unique_id"].min()
        extra = pd.DataFrame({
            "group_key": "I-" + customers["customer_no"].map(first).to_numpy(),
            "record_id": customers["record_id"].to_numpy(),
            "task_type": TaskType.IDENTITY_CHANGE})
        tasks = pd.concat([tasks, extra], ignore_index=True) if len(tasks) else extra
    return plan, tasks.drop_duplicates(["group_key", "record_id"])


def _take(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]`` with None where ``at`` is -1 (a reindex by positions found once)."""
    out = np.empty(len(at), dtype=object)
    found = at >= 0
    out[found] = values[at[found]]
    out[~found] = None
    return out


@dataclass(frozen=True)
class _Kept:
    """What keeps a pair that ends apart (ecif.services.retention): its records
    (keys) in an open or planned task, or a live decision about it (``left\x1fright``,
    both orders)."""

    asked: set[str]
    decided: set[str]

    def apart_kept(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        keep = left.isin(self.asked).to_numpy() | right.isin(self.asked).to_numpy()
        if self.decided:
            keep |= (left.astype(str) + "\x1f" + right.astype(str)).isin(self.decided).to_numpy()
        return keep


def _pair_rows(result: MatchResult, run_id: int, kept: _Kept) -> list[pd.DataFrame]:
    """Scored pairs (with their per-comparison weights, JSON) and strong-rule pairs, for
    "why": ``auto`` when the pair ended in one customer, else ``suspect``. A pair that
    ends apart with nothing to keep it, and all but the last row of a pair written
    twice, are not written: the run's prune would delete them
    (ecif.services.retention; no other write runs during the batch). On a first
    night of 1M records that was 40 % of the rows (756,794 of 1.9M), written and
    then deleted."""
    columns = ["run_id", "left_key", "right_key", "customer_type", "match_probability",
               "match_weight", "decision", "rule", "model_version", "explanation"]
    cluster = result.records.set_index("unique_id")["cluster_id"]
    parts = []
    pairs = result.pairs
    if pairs.num_rows:
        mw = [c for c in pairs.column_names if c.startswith("mw_")]
        frame = pairs.select(["unique_id_l", "unique_id_r", "match_probability",
                              "match_weight", "customer_type", *mw]).to_pandas()
        same = (cluster.reindex(frame["unique_id_l"]).to_numpy()
                == cluster.reindex(frame["unique_id_r"]).to_numpy())
        written = same | kept.apart_kept(frame["unique_id_l"], frame["unique_id_r"])
        frame, same = frame[written].reset_index(drop=True), same[written]
        weights = frame[mw].round(3).rename(columns=lambda c: c[3:])
        explanation = weights.to_json(orient="records", lines=True).split("\n")
        parts.append(pd.DataFrame({
            "run_id": run_id, "left_key": frame["unique_id_l"],
            "right_key": frame["unique_id_r"], "customer_type": frame["customer_type"],
            "match_probability": frame["match_probability"].astype(float),
            "match_weight": frame["match_weight"].astype(float),
            "decision": pd.Series(same, index=frame.index).map(
                {True: PairDecision.AUTO, False: PairDecision.SUSPECT}),
            "rule": None,
            "model_version": frame["customer_type"].map(result.model_versions),
            "explanation": explanation[: len(frame)]}))
    rp = result.rule_pairs
    if len(rp):
        written = (cluster.reindex(rp["unique_id_l"]).to_numpy()
                   == cluster.reindex(rp["unique_id_r"]).to_numpy()) | kept.apart_kept(
            rp["unique_id_l"], rp["unique_id_r"])
        rp = rp[written].reset_index(drop=True)
    if len(rp):
        ctype = result.records.set_index("unique_id")["customer_type"]
        parts.append(pd.DataFrame({
            "run_id": run_id, "left_key": rp["unique_id_l"], "right_key": rp["unique_id_r"],
            "customer_type": ctype.reindex(rp["unique_id_l"]).to_numpy(),
            "match_probability": None, "match_weight": None, "decision": PairDecision.RULE,
            "rule": rp["rule"], "model_version": None, "explanation": None}))
    return _last_rows([part[columns] for part in parts])


def _last_rows(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Of a pair written twice (scored and a strong rule's), only its last row, which
    the prune would keep (the newest)."""
    if not parts:
        return parts
    keys = pd.concat([p["left_key"].astype(str) + "\x1f" + p["right_key"].astype(str)
                      for p in parts], ignore_index=True)
    last = ~keys.duplicated(keep="last").to_numpy()
    bounds = np.cumsum([0, *(len(p) for p in parts)])
    return [p[last[a:b]] for p, a, b in zip(parts, bounds[:-1], bounds[1:], strict=True)]


def _save_versions(conn: Connection, ctx: BatchContext, versions: dict[str, str]) -> None:
    conn.execute(update(BatchRun).where(BatchRun.id == ctx.run_id)
                 .values(model_versions=versions))

