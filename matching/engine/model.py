"""Training, saving, loading and scoring the two Splink models.

Training needs no labels: the prior from deterministic rules, u by seeded
random sampling, m by expectation maximisation on blocking rules; which
rules, and which blocking rules generate candidate pairs, the data decides
(:mod:`matching.engine.training`). After training, every candidate pair is
scored once to calibrate the suspect threshold and to estimate the blocking
recall (:func:`calibrate`). A saved model is a JSON file holding ECIF's
metadata (version, type, when, on how many records, the training plan, the
calibrated thresholds) around Splink's own model dict; the version is a hash
of the trained parameters, and every merge records it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splink import Linker, SettingsCreator, block_on
from splink.internals.splink_dataframe import SplinkDataFrame

from matching.engine.backend import Backend
from matching.engine.config import TypeConfig
from matching.engine.labels import (
    MIN_MUST_LINKS,
    kept_apart,
    labelled_pairs,
    labels_table,
    m_shifts,
    score_labelled,
    thresholds_from_labels,
)
from matching.engine.portable import for_dialect
from matching.engine.settings import (
    ORGANISATION_BLOCKING,
    PERSON_BLOCKING,
    organisation_settings,
    person_settings,
)
from matching.engine.training import TrainingPlan, plan_training, probe_rules
from matching.exceptions import ConfigError

__all__ = ["TrainedModel", "train_model", "load_model", "save_model", "predict_pairs",
           "model_path", "settings_for", "model_from_json", "calibrate", "TrainingPlan"]

log = logging.getLogger(__name__)

_KIND = {"P": "person", "G": "organisation"}


@dataclass(frozen=True)
class TrainedModel:
    customer_type: str  # "P" or "G"
    version: str
    trained_at: str
    records: int
    splink: dict[str, Any]  # Splink's model dict (settings with m and u)
    #: the training plan: fields held, rules tried and chosen (training.TrainingPlan)
    plan: dict[str, Any] = field(default_factory=dict)
    #: calibrated on the training data: suspect (probability), blocking recall, ...
    calibration: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "ecif_model": {
                "customer_type": self.customer_type,
                "version": self.version,
                "trained_at": self.trained_at,
                "records": self.records,
                "plan": self.plan,
                "calibration": self.calibration,
            },
            "splink": self.splink,
        }

    def auto_merge(self, configured: float) -> float:
        """The auto-merge threshold: the configured one, raised where steward
        cannot-links asked for it (:mod:`matching.engine.labels`)."""
        return max(configured, self.calibration.get("auto_merge", configured))

    def suspect(self, configured: float) -> float:
        """The suspect threshold: the configured one, lowered to the calibrated one."""
        return min(configured, self.calibration.get("suspect", configured))


def _splink_level() -> int:
    """Keep whatever level the application set on Splink's logger (Linker resets it)."""
    return logging.getLogger("splink").level or logging.WARNING


def settings_for(customer_type: str,
                 blocking: Sequence[Sequence[str]] | None = None) -> SettingsCreator:
    if customer_type == "P":
        return person_settings(PERSON_BLOCKING if blocking is None else blocking)
    return organisation_settings(ORGANISATION_BLOCKING if blocking is None else blocking)


def candidate_blocking(customer_type: str) -> tuple[tuple[str, ...], ...]:
    return PERSON_BLOCKING if customer_type == "P" else ORGANISATION_BLOCKING


def model_path(model_dir: Path, customer_type: str) -> Path:
    return model_dir / f"{_KIND[customer_type]}.json"


def _version(customer_type: str, splink_dict: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(splink_dict, sort_keys=True).encode()).hexdigest()
    return f"{_KIND[customer_type]}-{digest[:12]}"


def _forget_term_frequencies(backend: Backend) -> None:
    """Drop Splink's cached term-frequency tables of the backend: Splink caches them
    by column name on the database API, so without this the organisation model
    (``phone``, ``address``) was scored with the persons' tables."""
    cache = backend.db_api._intermediate_table_cache
    for key in [k for k in cache if str(k).startswith("__splink__df_tf_")]:
        del cache[key]


def train_model(backend: Backend, table: str, customer_type: str, cfg: TypeConfig,
                *, calibrate_on_pairs: bool = True,
                labels: tuple[Sequence[tuple[str, str]], Sequence[tuple[str, str]]] | None = None,
                over_merged: Sequence[tuple[str, str]] | None = None) -> TrainedModel:
    """Estimate the model on ``table`` (engine features of one customer type).

    With ``labels`` (steward must-links, cannot-links as record-id pairs), learn
    from them too (:mod:`matching.engine.labels`): m from the must-links when
    there are enough, the auto-merge threshold from the cannot-links; the
    report is the plan's ``labels`` entry. ``over_merged``: the cannot-links that
    undid a merge (a split, a rollback) — only these may move the auto-merge
    threshold (None: every cannot-link may; a not-duplicate on a review task is
    a pair the machine had already left apart).

    Raises :class:`~matching.exceptions.TrainingError` when the data holds too
    little to train on (the message says what was tried and what is held)."""
    tr = cfg.training
    kind = _KIND[customer_type]
    dialect = backend.db_api.sql_dialect.sql_dialect_str
    plan = plan_training(backend, table, kind, tr,
                         settings_for(customer_type).create_settings_dict(dialect),
                         candidate_blocking(customer_type))
    _forget_term_frequencies(backend)
    linker = Linker(backend.register(table), settings_for(customer_type, plan.used("blocking")),
                    log_level=_splink_level())
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*cols) for cols in plan.used("prior_rules")], recall=tr.prior_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=tr.u_max_pairs, seed=tr.seed)
    sizes = {tuple(r["columns"]): int(r["pairs"]) for r in plan.as_json()["em_blocks"]}
    for cols in plan.used("em_blocks"):
        # Splink samples a block to max_pairs after a counting pass: only when needed
        big = sizes.get(tuple(cols), 0) > tr.em_max_pairs
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*cols), estimate_without_term_frequencies=False,
            max_pairs=tr.em_max_pairs if big else None
        )
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    report: dict[str, Any] = {}
    if labels is not None:
        must = labelled_pairs(backend, table, labels[0])
        cannot = labelled_pairs(backend, table, labels[1])
        before = _stable(linker.misc.save_model_to_json())
        if len(must) >= MIN_MUST_LINKS:
            linker.training.estimate_m_from_pairwise_labels(
                labels_table(backend, f"__ecif_must_{kind}", must))
            why = ""
        else:
            why = (f"{len(must)} must-link(s) among the {kind}s, fewer than "
                   f"{MIN_MUST_LINKS}")
        after = _stable(linker.misc.save_model_to_json())
        report = {"must_links": len(must), "cannot_links": len(cannot),
                  "m_from_labels": not why, "why": why,
                  "m_shifts": m_shifts(before, after) if not why else []}
    splink_dict = _stable(linker.misc.save_model_to_json())
    model = TrainedModel(
        customer_type=customer_type,
        version=_version(customer_type, splink_dict),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        records=plan.records,
        splink=splink_dict,
        plan=plan.as_json(),
    )
    calibration: dict[str, float] = {}
    if calibrate_on_pairs:
        calibration = calibrate(backend, table, model, cfg)
    if labels is not None:
        scored = score_labelled(linker, backend, f"__ecif_labelled_{kind}", [*must, *cannot])
        apart = kept_apart(backend, table, customer_type, cannot)
        merged = None if over_merged is None else {(min(a, b), max(a, b))
                                                   for a, b in over_merged}
        counting = [p for p in cannot if p not in apart and (merged is None or p in merged)]
        auto, counts = thresholds_from_labels(
            scored, counting, must, auto_merge=cfg.auto_merge,
            suspect=min(cfg.suspect, calibration.get("suspect", cfg.suspect)), guard=cfg.guard)
        report |= {"auto_merge_before": cfg.auto_merge, "auto_merge_after": auto, **counts,
                   "cannot_kept_apart": len(apart),
                   "cannot_not_merged": 0 if merged is None else
                   len([p for p in cannot if p not in apart and p not in merged])}
        if auto != cfg.auto_merge:
            calibration["auto_merge"] = auto
        # the labels change the model: its version says so
        model = replace(model, version=_version(customer_type, {**splink_dict,
                                                                "ecif_labels": report}),
                        plan={**model.plan, "labels": report})
    return replace(model, calibration=calibration)


def calibrate(backend: Backend, table: str, model: TrainedModel, cfg: TypeConfig
              ) -> dict[str, float]:
    """Score every candidate pair of ``table`` once, with a sample of looser
    probe pairs, and derive from the model's own probabilities:

    - ``suspect``: the probability below which the candidate pairs hold at most
      ``missed_share`` of the matches the model expects among them (the sum of
      their probabilities), so that what the model is unsure of lands in
      review tasks rather than below the band;
    - ``blocking_recall``: the matches expected among the candidate pairs over
      those plus the matches expected among the probe pairs the blocking rules
      miss (scaled up from the sample): the probes are the blocking rules'
      single columns (:func:`matching.engine.training.probe_rules`), so the
      estimate covers matches that agree on one of those columns.
    """
    chosen = [r["blocking_rule"] for r in model.splink["blocking_rules_to_generate_predictions"]]
    probes, share = probe_rules(backend, table, model.plan, cfg.training)
    splink = for_dialect(copy.deepcopy(model.splink), backend.db_api.sql_dialect.sql_dialect_str)
    splink["blocking_rules_to_generate_predictions"] = [
        *splink["blocking_rules_to_generate_predictions"],
        *({"blocking_rule": sql, "sql_dialect": backend.db_api.sql_dialect.sql_dialect_str}
          for sql in probes)]
    # pairs under 0.0001 add nothing to the sums below (a million of them: 100)
    pred = predict_pairs(backend, table, replace(model, splink=splink), 0.0001)
    bins = backend.fetch_arrow(
        f"SELECT CAST(match_key AS INTEGER) < {len(chosen)} AS blocked, "
        f"floor(match_weight * 4) / 4 AS w, count(*) AS n, sum(match_probability) AS p "
        f"FROM {pred.physical_name} GROUP BY 1, 2 ORDER BY 1, 2").to_pandas()
    pred.drop_table_from_database_and_remove_from_cache()
    blocked = bins[bins["blocked"]].reset_index(drop=True)
    expected_blocked = float(blocked["p"].sum())
    caught = 1 - (1 - share) ** 2  # a pair is probed when either record is sampled
    expected_missed = float(bins.loc[~bins["blocked"], "p"].sum()) / caught if caught else 0.0
    below = blocked["p"].cumsum() - blocked["p"]  # expected matches under each bin
    ok = blocked[below <= cfg.training.missed_share * expected_blocked]
    suspect = 1 / (1 + 2.0 ** -float(ok["w"].max())) if len(ok) else 0.0
    total = expected_blocked + expected_missed
    return {
        "suspect": round(suspect, 6),
        "candidate_pairs": float(blocked["n"].sum()),
        "expected_matches_blocked": round(expected_blocked, 1),
        "expected_matches_missed": round(expected_missed, 1),
        "probe_sample_share": round(share, 6),
        "blocking_recall": round(expected_blocked / total, 4) if total else 1.0,
    }


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def _stable(splink_dict: dict[str, Any]) -> dict[str, Any]:
    """The model without run noise: no random linker id, and parameters rounded to
    10 significant digits, since DuckDB's parallel sums differ in the last bits
    between runs. Same data and seed, same model, same version. Saved in DuckDB's
    SQL dialect whichever engine trained it (:mod:`matching.engine.portable`)."""
    out = _round(for_dialect(dict(splink_dict), "duckdb"))
    out.pop("linker_uid", None)
    return out


def save_model(model: TrainedModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(model.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def model_from_json(raw: Any, where: str = "model") -> TrainedModel:
    """A model from its JSON form (:meth:`TrainedModel.as_json`)."""
    try:
        meta = raw["ecif_model"]
        return TrainedModel(str(meta["customer_type"]), str(meta["version"]),
                            str(meta["trained_at"]), int(meta["records"]), dict(raw["splink"]),
                            dict(meta.get("plan") or {}), dict(meta.get("calibration") or {}))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where} is not an ECIF model: {exc!r}") from exc


def load_model(path: Path) -> TrainedModel:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no trained model at {path}; run `ecif train` first") from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not an ECIF model file: {exc!r}") from exc
    return model_from_json(raw, str(path))


def focused(splink: dict[str, Any], focus: str) -> dict[str, Any]:
    """The model with every blocking rule limited to pairs where at least one side
    has ``focus`` = 1: the incremental batch scores new and changed records
    against everything, never the old base against itself."""
    out = copy.deepcopy(splink)
    rules = []
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        rule = dict(rule) if isinstance(rule, dict) else {"blocking_rule": str(rule)}
        rule["blocking_rule"] = (f"({rule['blocking_rule']}) "
                                 f"AND (l.{focus} = 1 OR r.{focus} = 1)")
        rules.append(rule)
    out["blocking_rules_to_generate_predictions"] = rules
    return out


def predict_pairs(backend: Backend, table: str, model: TrainedModel,
                  threshold: float, focus: str | None = None) -> SplinkDataFrame:
    """Score the candidate pairs of ``table`` with ``model``; keep those at or above
    ``threshold``, with every per-comparison match weight for the explanation.
    With ``focus``, only pairs touching a record whose ``focus`` column is 1."""
    dialect = backend.db_api.sql_dialect.sql_dialect_str
    settings = for_dialect(model.splink, dialect)
    settings = focused(settings, focus) if focus else settings
    _forget_term_frequencies(backend)
    linker = Linker(backend.register(table), settings, log_level=_splink_level())
    return linker.inference.predict(threshold_match_probability=threshold,
                                    warning_mode="never")
