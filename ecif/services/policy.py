"""The review policy (config/review.yaml): which steward actions need approval,
and how long a claim holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matching.config import load_yaml
from matching.exceptions import ConfigError
from matching.vocabulary import StewardAction

__all__ = ["ReviewPolicy", "load_policy"]


@dataclass(frozen=True)
class ReviewPolicy:
    approval: dict[str, bool] = field(default_factory=lambda: {
        StewardAction.MERGE: True, StewardAction.FORCE_MERGE: True, StewardAction.SPLIT: True,
        StewardAction.ROLLBACK: True, StewardAction.NOT_DUPLICATE: False})
    claim_minutes: int = 30

    def needs_approval(self, action: str) -> bool:
        return bool(self.approval.get(StewardAction(action), True))


def load_policy(config_dir: Path) -> ReviewPolicy:
    path = config_dir / "review.yaml"
    if not path.exists():
        return ReviewPolicy()
    raw = load_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping")
    approval = dict(ReviewPolicy().approval)
    for key, value in (raw.get("approval") or {}).items():
        try:
            action = StewardAction(str(key))
        except ValueError:
            raise ConfigError(f"{path}: approval.{key}: not a steward action (one of "
                              + ", ".join(a.value for a in StewardAction) + ")") from None
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: approval.{key}: expected true or false")
        approval[action] = value
    try:
        minutes = int(raw.get("claim_minutes", 30))
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: claim_minutes: expected a whole number") from None
    if minutes < 1:
        raise ConfigError(f"{path}: claim_minutes must be at least 1")
    return ReviewPolicy(approval, minutes)
