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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from matching.engine.settings import ORGANISATION_BLOCKING, PERSON_BLOCKING

__all__ = ["candidate_rules", "block_keys", "model_rules", "rule_holds", "text_key",
           "indexed_rules", "rule_key_text", "rule_keys", "index_signature"]

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


def rule_holds(left: Mapping[str, Any], customer_type: str, rules: Iterable[int]
               ) -> Callable[[Mapping[str, Any]], bool]:
    """A test of a candidate ``right``: True when some rule of ``rules`` pairs it with
    ``left`` (all the rule's columns equal, none of them null). ``left``'s values are
    taken once, so testing hundreds of candidates of one block costs a tuple each."""
    candidates = candidate_rules(customer_type)
    wanted = []
    for i in rules:
        values = tuple(left.get(c) for c in candidates[i])
        if all(v is not None for v in values):
            wanted.append((candidates[i], values))

    def holds(right: Mapping[str, Any]) -> bool:
        get = right.get
        return any(tuple(map(get, cols)) == values for cols, values in wanted)
    return holds


def indexed_rules(customer_type: str, rules: Iterable[Sequence[str]]
                  ) -> tuple[tuple[str, ...], ...]:
    """Of ``rules`` (the columns of a type's weak rules), those no candidate rule
    covers: a rule is covered when some candidate rule's columns are all among its
    own (every pair the rule makes then shares that candidate's key, which finds
    them). An uncovered rule gets keys of its own (:func:`rule_keys`), so that the
    real-time API finds its records by an indexed look-up as the batch does (e.g.
    ``legal_rep`` + ``core_prefix``: no candidate rule holds only those)."""
    candidates = candidate_rules(customer_type)
    out = []
    for cols in rules:
        cols = tuple(cols)
        if not any(set(c) <= set(cols) for c in candidates) and cols not in out:
            out.append(cols)
    return tuple(out)


def rule_key_text(customer_type: str, columns: Sequence[str]) -> str:
    """The prefix of a rule key's text: named by the columns, not by a position in
    the configuration, so that a changed configuration never gives an old key
    another meaning."""
    return f"{customer_type}w:{','.join(columns)}"


def rule_keys(features: Mapping[str, Any], customer_type: str,
              rules: Iterable[Sequence[str]]) -> list[int]:
    """The keys of ``features`` for ``rules`` (columns of :func:`indexed_rules`)
    whose columns it all holds."""
    keys = []
    for cols in rules:
        values = [features.get(c) for c in cols]
        if all(v is not None for v in values):
            keys.append(text_key(rule_key_text(customer_type, cols) + "\x1f"
                                 + "\x1f".join(str(v) for v in values)))
    return keys


def index_signature(rules: Mapping[str, Iterable[Sequence[str]]]) -> int:
    """What the store's keys were built for (the candidate rules and the indexed
    rules of each type), as one number: a store whose index was built for other
    rules is re-indexed whole by the next batch."""
    parts = []
    for ctype in sorted(rules):
        parts.append(ctype + repr(candidate_rules(ctype)) + repr(tuple(
            tuple(r) for r in rules[ctype])))
    return text_key("|".join(parts))
