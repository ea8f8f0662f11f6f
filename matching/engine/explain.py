"""The "why" of a pair, for people: a waterfall of match weights, and the
deterministic rules two records satisfy.

Pure functions on what the batch keeps (``match_pair``: the total match
weight and the weight of every comparison) and on standardised records; no
store, no web. The prior (the weight before any comparison) is what the total
holds beyond the comparisons' sum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from matching.engine.config import Rule

__all__ = ["WaterfallStep", "waterfall", "rules_holding", "probability_of_weight",
           "derived_fields"]


@dataclass(frozen=True)
class WaterfallStep:
    """One bar: ``label`` moves the running weight from ``start`` to ``end``."""

    label: str
    weight: float
    start: float
    end: float
    kind: str  # "prior", "comparison" or "total"


def probability_of_weight(weight: float) -> float:
    """Splink's match probability for a match weight (log2 of the Bayes factor)."""
    if weight > 60:
        return 1.0
    odds = 2.0 ** weight
    return odds / (1.0 + odds)


def waterfall(explanation: Mapping[str, float] | None, match_weight: float | None
              ) -> list[WaterfallStep]:
    """Prior, then each comparison in the stored order, then the total. Empty when
    the pair was not scored (a rule pair)."""
    if not explanation or match_weight is None or not math.isfinite(match_weight):
        return []
    weights = {k: float(v) for k, v in explanation.items()
               if v is not None and math.isfinite(float(v))}
    prior = match_weight - sum(weights.values())
    steps = [WaterfallStep("prior", prior, 0.0, prior, "prior")]
    running = prior
    for label, weight in weights.items():
        steps.append(WaterfallStep(label, weight, running, running + weight, "comparison"))
        running += weight
    steps.append(WaterfallStep("total", match_weight, 0.0, match_weight, "total"))
    return steps


def derived_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The columns rules name that the store does not keep as such (as the engine's
    features compute them)."""
    out = dict(record)
    core = record.get("org_core")
    out.setdefault("core_prefix", core[:2] if isinstance(core, str) and core else None)
    out.setdefault("resident_id", record.get("id_number")
                   if record.get("id_type") == "RESIDENT_ID" else None)
    return out


def rules_holding(left: Mapping[str, Any], right: Mapping[str, Any],
                  rules: Iterable[Rule]) -> list[str]:
    """The names of the rules whose every column is present and equal on both sides;
    a column neither record carries makes its rule not hold."""
    a, b = derived_fields(left), derived_fields(right)
    held = []
    for rule in rules:
        if all(a.get(c) not in (None, "") and a.get(c) == b.get(c) for c in rule.equal):
            held.append(rule.name)
    return held
