"""Training, saving, loading and scoring the two Splink models.

Training needs no labels: the prior from deterministic rules, u by seeded
random sampling, m by expectation maximisation on two blocking rules. A saved
model is a JSON file holding ECIF's metadata (version, type, when, on how
many records) around Splink's own model dict; the version is a hash of the
trained parameters, and every merge records it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splink import Linker, SettingsCreator, block_on
from splink.internals.splink_dataframe import SplinkDataFrame

from matching.engine.backend import Backend
from matching.engine.config import TypeConfig
from matching.engine.settings import organisation_settings, person_settings
from matching.exceptions import ConfigError

__all__ = ["TrainedModel", "train_model", "load_model", "save_model", "predict_pairs",
           "model_path", "settings_for", "model_from_json"]

log = logging.getLogger(__name__)

_KIND = {"P": "person", "G": "organisation"}


@dataclass(frozen=True)
class TrainedModel:
    customer_type: str  # "P" or "G"
    version: str
    trained_at: str
    records: int
    splink: dict[str, Any]  # Splink's model dict (settings with m and u)

    def as_json(self) -> dict[str, Any]:
        return {
            "ecif_model": {
                "customer_type": self.customer_type,
                "version": self.version,
                "trained_at": self.trained_at,
                "records": self.records,
            },
            "splink": self.splink,
        }


def _splink_level() -> int:
    """Keep whatever level the application set on Splink's logger (Linker resets it)."""
    return logging.getLogger("splink").level or logging.WARNING


def settings_for(customer_type: str) -> SettingsCreator:
    return person_settings() if customer_type == "P" else organisation_settings()


def model_path(model_dir: Path, customer_type: str) -> Path:
    return model_dir / f"{_KIND[customer_type]}.json"


def _version(customer_type: str, splink_dict: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(splink_dict, sort_keys=True).encode()).hexdigest()
    return f"{_KIND[customer_type]}-{digest[:12]}"


def train_model(backend: Backend, table: str, customer_type: str, cfg: TypeConfig) -> TrainedModel:
    """Estimate the model on ``table`` (engine features of one customer type)."""
    tr = cfg.training
    linker = Linker(backend.register(table), settings_for(customer_type), log_level=_splink_level())
    records = backend.count(table)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*cols) for cols in tr.prior_rules], recall=tr.prior_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=tr.u_max_pairs, seed=tr.seed)
    for cols in tr.em_blocking:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*cols), estimate_without_term_frequencies=False
        )
    splink_dict = _stable(linker.misc.save_model_to_json())
    return TrainedModel(
        customer_type=customer_type,
        version=_version(customer_type, splink_dict),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        records=records,
        splink=splink_dict,
    )


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
    between runs. Same data and seed, same model, same version."""
    out = _round(dict(splink_dict))
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
                            str(meta["trained_at"]), int(meta["records"]), dict(raw["splink"]))
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
    settings = focused(model.splink, focus) if focus else model.splink
    linker = Linker(backend.register(table), settings, log_level=_splink_level())
    return linker.inference.predict(threshold_match_probability=threshold,
                                    warning_mode="never")
