"""Match-check (实时客户识别): is this record an existing customer? Read-only.

One definition of matching with the batch: the record goes through the same
per-record standardisation and admission (:func:`standardise_record`); its
candidates are the records sharing a blocking key of a rule the model scores
with (indexed look-ups in ``block_key``); each pair is scored by the same
trained model (:class:`matching.realtime.scorer.NativeModel`, equal to
Splink's to 1e-6) with the term frequencies the batch counted; the batch's
strong rules, guard, branch gate, exclusive attributes, steward cannot-links
and thresholds decide, through the engine's own :func:`cluster_records`:

- ``match``: a strong rule or the auto-merge tier joins the record to a
  customer, as the batch would;
- ``possible``: a candidate at or above the suspect threshold, a machine
  merge a constraint refused, or (organisations) a weak rule;
- ``new``: nothing of the above.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, bindparam, select, text

from ecif import rowsql
from ecif.services.realtime_index import weak_index_rules
from matching.config import CodeMaps
from matching.engine.cluster import RefusedReason, cluster_records
from matching.engine.config import EngineConfig, TypeConfig
from matching.engine.guard import guard_holds_on
from matching.engine.model import model_from_json
from matching.engine.run import (
    TIER_MODEL,
    TIER_RULE,
    TIER_STEWARD,
    WEAK_GROUP_MAX,
    branch_gate,
)
from matching.realtime.blocking import (
    block_keys,
    candidate_rules,
    model_rules,
    rule_holds,
    rule_keys,
)
from matching.realtime.features import record_features
from matching.realtime.scorer import NativeModel, Score
from matching.standardise.columns import OUTPUT_COLUMNS
from matching.vocabulary import Judgement
from models.trained_model import TrainedModelVersion

__all__ = ["Matcher", "MatchOutcome", "Candidate", "Decision", "STD_COLUMNS"]

#: How often (seconds) the serving process checks whether a batch or ``ecif model use``
#: changed the active models or the term frequencies (one small indexed query).
_CHECK_SECONDS = 1.0
#: At most this many candidate records are scored (the largest block of the sample: 14).
MAX_CANDIDATES = 2000
#: Candidates shown in an answer.
SHOWN = 10

STD_COLUMNS = tuple(c for c in OUTPUT_COLUMNS if c not in ("issues",))


class Decision:
    MATCH = "match"
    POSSIBLE = "possible"
    NEW = "new"


@dataclass
class Candidate:
    customer_no: str
    record_key: str
    score: Score
    rule: str | None
    tier: int  # 2 auto-merge tier, 1 suspect band, 0 below
    features: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"customer_no": self.customer_no,
                "match_probability": round(self.score.match_probability, 9),
                "match_weight": round(self.score.match_weight, 4),
                "rule": self.rule,
                "explanation": [{"field": f, "level": lvl, "weight": round(w, 4)}
                                for f, lvl, _, w in self.score.fields]}


@dataclass
class MatchOutcome:
    decision: str
    customer_no: str | None
    match_probability: float
    candidates: list[Candidate]
    issues: list[str]
    record: dict[str, str | None]
    features: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None
    rule: str | None = None
    #: every candidate record scored (``candidates`` keeps the best of each customer)
    scored: list[Candidate] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "customer_no": self.customer_no,
                "match_probability": round(self.match_probability, 9),
                "candidates": [c.as_json() for c in self.candidates[:SHOWN]],
                "issues": self.issues}


@dataclass(frozen=True)
class _Prefetched:
    """Read with the candidates: their customers' records and the live cannot-links
    around them (None: not read, the decision reads what it needs)."""

    members: list[dict[str, Any]] | None
    cannot: list[tuple[str, str]] | None


@dataclass(frozen=True)
class _Loaded:
    version: str
    native: NativeModel
    rules: tuple[int, ...]
    suspect: float
    #: the model's auto-merge threshold (raised by learned cannot-links), as the batch's
    auto_merge: float = 1.0


class Matcher:
    """Match-check over a store. The active models and the whole term-frequency table
    are held in the process, loaded once per store state: at most every
    :data:`_CHECK_SECONDS` a small query reads the active model versions and the
    newest batch run's stage; when either changed (a batch wrote new term
    frequencies, a model was trained or picked), both are loaded again."""

    def __init__(self, config: EngineConfig, codes: CodeMaps) -> None:
        self.config = config
        self.codes = codes
        #: per type, the weak rules with keys of their own in the index
        self.weak_index = weak_index_rules(config)
        self._lock = threading.Lock()
        self._models: dict[str, _Loaded] = {}
        self._totals: dict[tuple[str, str], int] = {}
        self._counts: dict[str, dict[tuple[str, str], int]] = {}
        self._marker: tuple[Any, ...] | None = None
        self._checked_at = -1e9

    # --- caches ---------------------------------------------------------------------------

    def refresh(self, conn: Connection) -> None:
        """Load the models and term frequencies if the store changed them (at most every
        :data:`_CHECK_SECONDS`)."""
        now = time.monotonic()
        if now - self._checked_at < _CHECK_SECONDS:
            return
        with self._lock:
            if now - self._checked_at < _CHECK_SECONDS:
                return
            active = tuple(sorted((str(t), str(v)) for t, v in conn.execute(
                select(TrainedModelVersion.customer_type, TrainedModelVersion.version)
                .where(TrainedModelVersion.active.is_(True))).all()))
            run = conn.execute(_LAST_RUN).first()
            marker = (active, tuple(run) if run is not None else None)
            if marker != self._marker:
                self._load(conn, active)
                self._marker = marker
            self._checked_at = time.monotonic()

    def _load(self, conn: Connection, active: tuple[tuple[str, str], ...]) -> None:
        models = {}
        for ctype, version in active:
            have = self._models.get(ctype)
            if have is not None and have.version == version:
                models[ctype] = have
                continue
            body = conn.execute(select(TrainedModelVersion.body).where(
                TrainedModelVersion.customer_type == ctype,
                TrainedModelVersion.version == version)).scalar_one()
            model = model_from_json(body, f"stored {ctype} model")
            tcfg = self.config.for_type(ctype)
            models[ctype] = _Loaded(version, NativeModel(model.splink),
                                    model_rules(model.splink, ctype),
                                    model.suspect(tcfg.suspect),
                                    model.auto_merge(tcfg.auto_merge))
        totals: dict[tuple[str, str], int] = {}
        counts: dict[str, dict[tuple[str, str], int]] = {}
        for ctype, col, value, n in conn.execute(_ALL_TF):
            if value == "":
                totals[(ctype, col)] = int(n)
            else:
                counts.setdefault(ctype, {})[(col, value)] = int(n)
        self._models, self._totals, self._counts = models, totals, counts

    # --- the check --------------------------------------------------------------------------

    def features(self, conn: Connection, record: dict[str, str | None]) -> dict[str, Any]:
        """The record's match columns (its branch state read from the store)."""
        return record_features(record, self._branches(conn, [record]).get(
            record.get("org_code") or "", (None, None)))

    def check(self, conn: Connection, record: dict[str, str | None], *,
              exclude_key: str | None = None) -> MatchOutcome:
        """Match-check one standardised, admitted record (``record``: OUTPUT_COLUMNS)."""
        self.refresh(conn)
        ctype = record.get("customer_type") or "P"
        issues = [i for i in (record.get("issues") or "").split(";") if i]
        loaded = self._models.get(ctype)
        tcfg = self.config.for_type(ctype)
        features = self.features(conn, record)
        empty = MatchOutcome(Decision.NEW, None, 0.0, [], issues, record, features)
        if loaded is None:
            return empty
        cands, members = self._candidates(conn, ctype, features, loaded.rules, exclude_key)
        if not cands:
            return (_weak(conn, empty, tcfg, features, ctype, self.weak_index[ctype],
                          exclude_key)
                    if tcfg.weak_rules else empty)
        tf = self._tf(conn, ctype, [features, *[c for c, _ in cands]], loaded.native.tf_columns)
        scores = loaded.native.score_many(features, [c for c, _ in cands], tf)
        probs = np.array([s.match_probability for s in scores])
        auto = (probs >= loaded.auto_merge) & _guard(scores, tcfg) & _gate(features, cands)
        candidates = []
        strong_rule = _strong_rule(features, tcfg)
        for (feat, no), score, is_auto in zip(cands, scores, auto, strict=True):
            rule = strong_rule(feat)
            tier = 2 if is_auto else (1 if score.match_probability >= loaded.suspect else 0)
            candidates.append(Candidate(no, feat["unique_id"], score, rule, tier, feat))
        outcome = MatchOutcome(Decision.NEW, None, float(probs.max()), [], issues, record,
                               features, loaded.version)
        self._decide(conn, outcome, features, candidates, ctype, members)
        if outcome.decision == Decision.NEW and tcfg.weak_rules:
            outcome = _weak(conn, outcome, tcfg, features, ctype, self.weak_index[ctype],
                            exclude_key)
        outcome.candidates = _by_customer(candidates)
        outcome.scored = candidates
        return outcome

    def _candidates(self, conn: Connection, ctype: str, features: dict[str, Any],
                    rules: tuple[int, ...], exclude_key: str | None
                    ) -> tuple[list[tuple[dict[str, Any], str]], _Prefetched]:
        """The candidate records (those sharing a key that passes its rule), with their
        customers' records (every record of every customer holding a candidate: what
        the decision clusters), in one round trip; (candidates, None) when the customers
        are too many to read at once (the decision then reads its customers' records)."""
        keys = block_keys(features, ctype, rules)
        if not keys:
            return [], _Prefetched(None, None)
        in_keys, key_params = rowsql.in_list(keys, "key")
        got = rowsql.fetch_dicts(conn, _CANDIDATES_AND_MEMBERS.format(in_keys=in_keys), [
            *key_params, ctype, MAX_CANDIDATES + 1, features["unique_id"],
            str(Judgement.CANNOT_LINK), str(Judgement.CANNOT_LINK)])
        rows = sorted((r for r in got if r["hit"] != 2),
                      key=lambda r: (r["customer_no"], r["record_key"]))
        cannot: list[tuple[str, str]] | None = [(r["record_key"], r["customer_no"])
                                                 for r in got if r["hit"] == 2]
        members: list[dict[str, Any]] | None = rows
        if len(rows) > MAX_CANDIDATES:
            rows = rowsql.fetch_dicts(conn, _CANDIDATES.format(in_keys=in_keys),
                                      [*key_params, ctype, MAX_CANDIDATES])
            for r in rows:
                r["hit"] = 1
            members = cannot = None
        recs = [r for r in rows if r["hit"] and r["record_key"] != exclude_key]
        branches = self._branches(conn, recs) if ctype == "G" else {}
        holds = rule_holds(features, ctype, rules)
        out = []
        for r in recs:
            feat = record_features(r, branches.get(r.get("org_code") or "", (None, None)))
            if holds(feat):
                out.append((feat, str(r["customer_no"])))
        return out, _Prefetched(members, cannot)

    def _branches(self, conn: Connection, recs: Sequence[Mapping[str, Any]]
                  ) -> dict[str, tuple[str | None, str | None]]:
        """(min, max) branch name over the store's organisations holding each code,
        and over ``recs`` themselves (a record asked about counts as held)."""
        codes = sorted({r["org_code"] for r in recs
                        if r.get("customer_type") == "G" and r.get("org_code")})
        if not codes:
            return {}
        in_codes, params = rowsql.in_list(codes, "org_code")
        rows = rowsql.fetch(conn, _BRANCHES.format(in_codes=in_codes), params)
        seen: dict[str, list[str]] = {c: [] for c in codes}
        for code, lo, hi in rows:
            seen[code].extend(v for v in (lo, hi) if v is not None)
        for r in recs:
            if r.get("org_code") in seen and r.get("org_branch"):
                seen[r["org_code"]].append(r["org_branch"])
        return {c: ((min(v), max(v)) if v else (None, None)) for c, v in seen.items()}

    def _tf(self, conn: Connection, ctype: str, feats: Sequence[Mapping[str, Any]],
            columns: tuple[str, ...]) -> Any:
        """The term frequency of a value (None: no TF for it), from the cached table."""
        counts = self._counts.get(ctype, {})
        totals = self._totals

        def tf(col: str, value: str | None) -> float | None:
            if value is None:
                return None
            total = totals.get((ctype, col), 0)
            if not total:
                return None
            return counts.get((col, value), 1) / total
        return tf

    def _decide(self, conn: Connection, outcome: MatchOutcome, features: dict[str, Any],
                candidates: list[Candidate], ctype: str,
                prefetched: _Prefetched | None = None) -> None:
        """The batch's clustering on the record, the customers it could join and their
        records: a union with a customer is a match."""
        joining = [c for c in candidates if c.rule or c.tier == 2]
        suspects = [c for c in candidates if c.tier >= 1]
        if joining:
            nos = sorted({c.customer_no for c in joining})
            wanted = set(nos)
            members: list[dict[str, Any]] = (
                [m for m in prefetched.members if m["customer_no"] in wanted]
                if prefetched is not None and prefetched.members is not None
                else [dict(m) for m in conn.execute(_MEMBERS, {"nos": nos}).mappings().all()])
            branches = self._branches(conn, [*members, outcome.record]) if ctype == "G" else {}
            keys = [features["unique_id"]] + [m["record_key"] for m in members]
            index = {k: i for i, k in enumerate(keys)}
            left, right, score, tier = [], [], [], []
            first: dict[str, int] = {}
            for m in members:
                i = index[m["record_key"]]
                if m["customer_no"] in first:
                    left.append(first[m["customer_no"]])
                    right.append(i)
                    score.append(1.0)
                    tier.append(TIER_STEWARD)
                else:
                    first[m["customer_no"]] = i
            edge_of = []
            for c in joining:
                left.append(0)
                right.append(index[c.record_key])
                score.append(1.0 if c.rule else c.score.match_probability)
                tier.append(TIER_RULE if c.rule else TIER_MODEL)
                edge_of.append(c)
            recs: list[Mapping[str, Any]] = [outcome.record, *members]
            excl_id, excl_branch, gender = [], [], []
            for r in recs:
                code = r.get("org_code") or ""
                f = record_features(r, branches.get(code, (None, None)))
                excl_id.append(f.get("resident_id") if ctype == "P" else f.get("org_code"))
                excl_branch.append(f.get("branch_state") if ctype == "G" else None)
                gender.append(f.get("gender") if ctype == "P" else None)
            cannot = self._cannot_links(conn, keys, nos, members, index,
                                        prefetched.cannot if prefetched else None)
            order = np.lexsort((np.array(right), np.array(left), np.array(tier)))
            result = cluster_records(
                len(keys), np.array(left, np.int64)[order], np.array(right, np.int64)[order],
                np.array(score, float)[order], np.array(tier, np.int8)[order],
                exclusive=[np.zeros(len(keys), np.int64), _int_codes(excl_id),
                           _int_codes(excl_branch)],
                exclusive_model=[_int_codes(gender)], cannot_link=cannot,
                max_cluster_size=self.config.max_cluster_size)
            n_members = len(left) - len(edge_of)
            accepted = result.accepted[np.argsort(order)][n_members:]
            reasons = result.refused_reason[np.argsort(order)][n_members:]
            joined = [c for c, ok in zip(edge_of, accepted, strict=True) if ok]
            if joined:
                best = min(joined, key=lambda c: (0 if c.rule else 1,
                                                  -c.score.match_probability))
                outcome.decision = Decision.MATCH
                outcome.customer_no = best.customer_no
                outcome.match_probability = best.score.match_probability
                outcome.rule = best.rule or f"model:{outcome.model_version}"
                return
            if any(r != RefusedReason.CANNOT_LINK for r in reasons):
                outcome.decision = Decision.POSSIBLE
                return
        if suspects:
            outcome.decision = Decision.POSSIBLE

    def _cannot_links(self, conn: Connection, keys: list[str], nos: list[str],
                      members: list[dict[str, Any]], index: dict[str, int],
                      prefetched: list[tuple[str, str]] | None = None
                      ) -> tuple[np.ndarray, np.ndarray] | None:
        """The live cannot-links among the record, these customers and their records
        (``prefetched``: read with the candidates, a superset: those naming no one
        here are dropped below, as are those the query would have found)."""
        rows = prefetched if prefetched is not None else conn.execute(
            _CANNOT, {"keys": keys, "nos": nos, "judgement": Judgement.CANNOT_LINK}).all()
        if not rows:
            return None
        first_of: dict[str, int] = {}
        for m in members:
            first_of.setdefault(m["customer_no"], index[m["record_key"]])
        a, b = [], []
        for left, right in rows:
            i = index.get(left, first_of.get(left))
            j = index.get(right, first_of.get(right))
            if i is not None and j is not None:
                a.append(i)
                b.append(j)
        if not a:
            return None
        return np.array(a, np.int64), np.array(b, np.int64)


def _guard(scores: list[Score], tcfg: TypeConfig) -> np.ndarray:
    names = [f for f, _, _, _ in scores[0].fields]
    weights = {n: np.array([s.fields[i][3] for s in scores], dtype=float)
               for i, n in enumerate(names)}
    return guard_holds_on(weights, len(scores), tcfg.guard)


def _int_codes(values: list[Any]) -> np.ndarray:
    """Integer codes (-1 for no value) for cluster_records' exclusive attributes."""
    seen: dict[Any, int] = {}
    return np.array([-1 if v is None or v == "" else seen.setdefault(v, len(seen))
                     for v in values], dtype=np.int64)


def _gate(features: Mapping[str, Any], cands: list[tuple[dict[str, Any], str]]) -> np.ndarray:
    if features.get("customer_type") != "G":
        return np.ones(len(cands), dtype=bool)
    n = len(cands)
    table = pa.table({
        "branch_state_l": pa.array([features.get("branch_state")] * n, pa.string()),
        "branch_state_r": pa.array([c.get("branch_state") for c, _ in cands], pa.string()),
        "org_code_any_l": pa.array([features.get("org_code_any")] * n, pa.string()),
        "org_code_any_r": pa.array([c.get("org_code_any") for c, _ in cands], pa.string()),
    })
    return branch_gate(table)


def _strong_rule(left: Mapping[str, Any], tcfg: TypeConfig
                 ) -> Callable[[Mapping[str, Any]], str | None]:
    """A function of a candidate ``right``: the first strong rule whose columns are
    equal (none null) on ``left`` and ``right``, or None (``left``'s values taken once)."""
    wanted = []
    for rule in tcfg.strong_rules:
        values = tuple(left.get(c) for c in rule.equal)
        if all(v is not None for v in values):
            wanted.append((rule.name, tuple(rule.equal), values))

    def first(right: Mapping[str, Any]) -> str | None:
        get = right.get
        for name, cols, values in wanted:
            if tuple(map(get, cols)) == values:
                return name
        return None
    return first


def _weak(conn: Connection, outcome: MatchOutcome, tcfg: TypeConfig,
          features: Mapping[str, Any], ctype: str,
          indexed: tuple[tuple[str, ...], ...], exclude_key: str | None = None
          ) -> MatchOutcome:
    """Organisations: a weak rule (same core in one city, one landline, ...) with an
    existing customer makes the record a question for a steward: 1 to
    ``WEAK_GROUP_MAX`` - 1 linked records hold all the rule's values (with the record
    itself a group of at most ``WEAK_GROUP_MAX``, as the batch groups them; a larger
    group, a call centre's landline, says nothing). The records are found through the
    blocking key of a candidate rule whose columns the weak rule holds (every record
    the weak rule pairs shares it), or else through the rule's own key (``indexed``:
    :func:`matching.realtime.blocking.indexed_rules`, e.g. ``legal_rep`` +
    ``core_prefix``), all rules in one round trip. The stored columns of the rule are
    checked on the rows; a derived one (``core_prefix``) by its key. ``exclude_key``:
    a stored record asked about as if new is not its own group."""
    parts: list[str] = []
    params: list[Any] = []
    for i, rule in enumerate(tcfg.weak_rules):
        values = {c: features.get(c) for c in rule.equal}
        if any(v is None for v in values.values()):
            continue
        covering = [j for j, cols in enumerate(candidate_rules(ctype))
                    if set(cols) <= set(values)]
        if covering:
            key = block_keys(features, ctype, covering[:1])
        elif tuple(rule.equal) in indexed:
            key = rule_keys(features, ctype, [rule.equal])
        else:
            key = []
        stored = {c: v for c, v in values.items() if c in _STORED}
        if not key or (covering and len(stored) < len(values)):
            continue  # a derived column only a rule key can check
        where = "".join(f" AND s.{c} = ?" for c in stored)
        params.extend([key[0], ctype, *stored.values(), exclude_key or ""])
        parts.append(f"SELECT {i} AS rule, count(*) AS n FROM (SELECT 1 AS one "
                     "FROM block_key b JOIN source_record s ON s.id = b.record_id "
                     "JOIN link l ON l.record_id = s.id WHERE b.key = ? "
                     f"AND s.customer_type = ?{where} AND s.record_key <> ? "
                     f"LIMIT {WEAK_GROUP_MAX}) q{i}")
    if not parts:
        return outcome
    found = {int(i): int(n) for i, n in rowsql.fetch(conn, " UNION ALL ".join(parts), params)}
    for i in sorted(found):
        if 0 < int(found[i]) < WEAK_GROUP_MAX:
            outcome.decision = Decision.POSSIBLE
            return outcome
    return outcome


_STORED = frozenset(STD_COLUMNS)


def _by_customer(candidates: list[Candidate]) -> list[Candidate]:
    """The best candidate record of each customer, best first."""
    best: dict[str, Candidate] = {}
    for c in sorted(candidates, key=lambda c: (c.rule is None, -c.score.match_probability)):
        best.setdefault(c.customer_no, c)
    return list(best.values())


# The hot path's queries run at the driver level (ecif.rowsql: ``?`` placeholders,
# ``{in_keys}`` / ``{in_codes}`` an IN list of rowsql.in_list).
_SELECT = ", ".join(f"s.{c}" for c in STD_COLUMNS)
_CANDIDATES = (
    f"SELECT s.record_key, {_SELECT}, l.customer_no FROM source_record s "
    "JOIN link l ON l.record_id = s.id "
    "WHERE s.id IN (SELECT DISTINCT record_id FROM block_key WHERE {in_keys}) "
    "AND s.customer_type = ? LIMIT ?")
_NULLS = ", ".join("NULL" for _ in STD_COLUMNS)
#: The candidates (``hit`` 1), the other records of their customers (``hit`` 0), and
#: the live cannot-links touching any of them, their customers or the record asked
#: about (``hit`` 2: left key in ``record_key``, right key in ``customer_no``): one
#: round trip, each part an indexed look-up. A key names its rule's type, so the
#: type is checked once, on the records read (a customer holds one type).
_CANDIDATES_AND_MEMBERS = (
    "WITH hit AS (SELECT DISTINCT record_id FROM block_key WHERE {in_keys}), "
    "cust AS (SELECT DISTINCT lh.customer_no FROM hit JOIN link lh "
    "ON lh.record_id = hit.record_id), "
    f"mem AS (SELECT s.record_key, {_SELECT}, l.customer_no, "
    "CASE WHEN l.record_id IN (SELECT record_id FROM hit) THEN 1 ELSE 0 END AS hit "
    "FROM cust JOIN link l ON l.customer_no = cust.customer_no "
    "JOIN source_record s ON s.id = l.record_id WHERE s.customer_type = ? "
    "ORDER BY l.customer_no, s.record_key LIMIT ?), "
    "near AS (SELECT record_key AS k FROM mem UNION SELECT customer_no FROM cust "
    "UNION SELECT CAST(? AS VARCHAR(200))), "
    "dec AS (SELECT d.left_key, d.right_key FROM decision d "
    "WHERE d.deleted_at IS NULL AND d.judgement = ? "
    "AND d.left_key IN (SELECT k FROM near) "
    "UNION SELECT d.left_key, d.right_key FROM decision d "
    "WHERE d.deleted_at IS NULL AND d.judgement = ? "
    "AND d.right_key IN (SELECT k FROM near)) "
    "SELECT * FROM mem UNION ALL "
    f"SELECT left_key, {_NULLS}, right_key, 2 FROM dec")
_BRANCHES = (
    "SELECT org_code, min(org_branch), max(org_branch) FROM source_record "
    "WHERE customer_type = 'G' AND {in_codes} GROUP BY org_code")
_ALL_TF = text("SELECT customer_type, tf_column, value, count FROM term_frequency")
_LAST_RUN = text("SELECT id, stage, status FROM batch_run ORDER BY id DESC LIMIT 1")
_MEMBERS = text(
    f"SELECT s.record_key, {_SELECT}, l.customer_no FROM link l "
    "JOIN source_record s ON s.id = l.record_id WHERE l.customer_no IN :nos "
    "ORDER BY l.customer_no, s.record_key"
).bindparams(bindparam("nos", expanding=True))
_CANNOT = text(
    "SELECT left_key, right_key FROM decision WHERE deleted_at IS NULL "
    "AND judgement = :judgement AND (left_key IN :keys OR right_key IN :keys "
    "OR left_key IN :nos OR right_key IN :nos)"
).bindparams(bindparam("keys", expanding=True), bindparam("nos", expanding=True))
