"""Blocking keys: the engine's candidate rules as hashed keys, so that the
candidates of one record are indexed look-ups in the store (``block_key``).

A record gets one key per candidate blocking rule whose columns it all holds
(:data:`matching.engine.settings.PERSON_BLOCKING`, ``ORGANISATION_BLOCKING``:
every candidate, whichever the model chose); a look-up uses the keys of the
rules the model scores with (its ``blocking_rules_to_generate_predictions``).
Two records share a key when the rule's columns are equal on both, as in
Splink's ``block_on`` (a hash collision only adds a candidate, which the
caller checks against the rule itself).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from matching.engine.settings import ORGANISATION_BLOCKING, PERSON_BLOCKING

__all__ = ["candidate_rules", "block_keys", "model_rules", "rule_holds", "text_key"]

_EQUAL = re.compile(r'l\."?(\w+)"? = r\."?\1"?')


def candidate_rules(customer_type: str) -> tuple[tuple[str, ...], ...]:
    return PERSON_BLOCKING if customer_type == "P" else ORGANISATION_BLOCKING


def text_key(text: str) -> int:
    """A signed 64-bit hash of ``text`` (stable across processes and machines)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "big", signed=True)


def _key(customer_type: str, rule: int, values: Sequence[str]) -> int:
    return text_key(f"{customer_type}{rule}\x1f" + "\x1f".join(values))


def block_keys(features: Mapping[str, Any], customer_type: str,
               rules: Iterable[int] | None = None) -> list[int]:
    """The keys of ``features`` (a record's match columns) for the candidate rules
    numbered ``rules`` (all when None)."""
    candidates = candidate_rules(customer_type)
    keys = []
    for i in (range(len(candidates)) if rules is None else rules):
        values = [features.get(c) for c in candidates[i]]
        if all(v is not None for v in values):
            keys.append(_key(customer_type, i, values))  # type: ignore[arg-type]
    return keys


def model_rules(splink: Mapping[str, Any], customer_type: str) -> tuple[int, ...]:
    """The candidate rules (by number) the model generates its pairs with; a rule
    that is not one of the candidates raises ValueError."""
    candidates = candidate_rules(customer_type)
    out = []
    for rule in splink.get("blocking_rules_to_generate_predictions", []):
        sql = rule["blocking_rule"] if isinstance(rule, Mapping) else str(rule)
        cols = tuple(_EQUAL.findall(sql))
        if cols not in candidates:
            raise ValueError(f"blocking rule {sql!r} is not a candidate rule of the engine")
        out.append(candidates.index(cols))
    return tuple(out)


def rule_holds(left: Mapping[str, Any], right: Mapping[str, Any], customer_type: str,
               rules: Iterable[int]) -> bool:
    """True when some rule of ``rules`` pairs the two records (all its columns equal)."""
    candidates = candidate_rules(customer_type)
    for i in rules:
        if all(left.get(c) is not None and left.get(c) == right.get(c) for c in candidates[i]):
            return True
    return False
