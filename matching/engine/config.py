"""Typed engine configuration, loaded from ``config/matching.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.config import DEFAULT_CONFIG_DIR, load_yaml
from matching.engine.guard import Guard
from matching.exceptions import ConfigError

__all__ = ["Rule", "Training", "TypeConfig", "EngineConfig", "load_engine_config"]


@dataclass(frozen=True)
class Rule:
    """A deterministic rule: every column in ``equal`` present and equal on both sides."""

    name: str
    equal: tuple[str, ...]


@dataclass(frozen=True)
class Training:
    """How a model is trained; the rules are candidates, chosen per deployment
    by :func:`matching.engine.training.plan_training`."""

    seed: int
    u_max_pairs: int
    prior_rules: tuple[tuple[str, ...], ...]
    prior_recall: float
    em_blocking: tuple[tuple[str, ...], ...]
    #: a rule whose columns fewer than this share of records hold is left out
    min_fill: float = 0.01
    #: an EM block needs at least this many pairs
    em_min_pairs: int = 100
    #: EM on a larger block samples this many pairs (Splink's max_pairs)
    em_max_pairs: int = 5_000_000
    #: a blocking rule adding more comparisons than this per record is left out
    max_comparisons_per_record: float = 50.0
    #: the suspect threshold is lowered until the pairs below it hold at most this
    #: share of the matches the model expects among the blocked pairs
    missed_share: float = 0.005
    #: blocking recall probes: a column alone adding more than this per record is
    #: too loose to probe with; the sample is sized to this many probe pairs
    probe_max_per_record: float = 500.0
    probe_max_pairs: int = 1_000_000


@dataclass(frozen=True)
class TypeConfig:
    """Configuration for one customer type (persons or organisations)."""

    auto_merge: float
    suspect: float
    strong_rules: tuple[Rule, ...]
    weak_rules: tuple[Rule, ...]
    training: Training
    #: the evidence a pair needs, beyond its probability, to auto-merge (None: none)
    guard: Guard | None = None


@dataclass(frozen=True)
class EngineConfig:
    model_dir: Path
    max_cluster_size: int
    person: TypeConfig
    organisation: TypeConfig

    def for_type(self, customer_type: str) -> TypeConfig:
        return self.person if customer_type == "P" else self.organisation


_TRAINING_OPTIONS = ("min_fill", "em_min_pairs", "em_max_pairs", "max_comparisons_per_record",
                     "missed_share", "probe_max_per_record", "probe_max_pairs")


def _rules(raw: Any, where: str) -> tuple[Rule, ...]:
    rules = []
    for i, item in enumerate(raw or []):
        try:
            rules.append(Rule(str(item["name"]), tuple(str(c) for c in item["equal"])))
        except (KeyError, TypeError) as exc:
            raise ConfigError(
                f"matching.yaml {where}[{i}]: expected {{name, equal: [...]}}"
            ) from exc
    return tuple(rules)


def _type_config(raw: Any, where: str) -> TypeConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"matching.yaml: section {where!r} missing")
    try:
        th = raw["thresholds"]
        tr = raw["training"]
        auto, suspect = float(th["auto_merge"]), float(th["suspect"])
        training = Training(
            seed=int(tr["seed"]),
            u_max_pairs=int(tr["u_max_pairs"]),
            prior_rules=tuple(tuple(str(c) for c in r) for r in tr["prior_rules"]),
            prior_recall=float(tr["prior_recall"]),
            em_blocking=tuple(tuple(str(c) for c in r) for r in tr["em_blocking"]),
            **{k: type(getattr(Training, k))(tr[k]) for k in _TRAINING_OPTIONS if k in tr},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"matching.yaml {where}: {exc!r} (thresholds/training incomplete)"
        ) from exc
    if not 0.0 < suspect <= auto <= 1.0:
        raise ConfigError(
            f"matching.yaml {where}: need 0 < suspect ({suspect}) <= auto_merge ({auto}) <= 1"
        )
    return TypeConfig(auto, suspect, _rules(raw.get("strong_rules"), f"{where}.strong_rules"),
                      _rules(raw.get("weak_rules"), f"{where}.weak_rules"), training,
                      _guard(raw.get("guard"), f"{where}.guard"))


def _guard(raw: Any, where: str) -> Guard | None:
    if raw is None:
        return None
    try:
        guard = Guard(
            min_weight=float(raw["min_weight"]),
            min_fields=int(raw.get("min_fields", 2)),
            distinct=tuple(str(c) for c in raw.get("distinct") or ()),
            shared=tuple(str(c) for c in raw.get("shared") or ()),
            veto_weight=float(raw.get("veto_weight", raw["min_weight"])),
            overrule_fields=int(raw.get("overrule_fields", 3)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"matching.yaml {where}: expected {{min_weight, min_fields, "
                          f"distinct: [...], shared: [...]}}, got {raw!r}") from exc
    if guard.min_weight <= 0 or guard.min_fields < 1 or not guard.distinct:
        raise ConfigError(f"matching.yaml {where}: need min_weight > 0, min_fields >= 1 "
                          f"and at least one distinct field, got {raw!r}")
    return guard


def load_engine_config(config_dir: Path = DEFAULT_CONFIG_DIR) -> EngineConfig:
    raw = load_yaml(config_dir / "matching.yaml")
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_dir / 'matching.yaml'}: expected a mapping")
    model_dir = Path(raw.get("model_dir", "data/models"))
    if not model_dir.is_absolute():
        model_dir = config_dir.parent / model_dir
    return EngineConfig(
        model_dir=model_dir,
        max_cluster_size=int(raw.get("max_cluster_size", 50)),
        person=_type_config(raw.get("person"), "person"),
        organisation=_type_config(raw.get("organisation"), "organisation"),
    )
