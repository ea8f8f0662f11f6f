"""One model file for both engines: Splink settings rewritten per SQL dialect.

Splink writes the SQL of every comparison level and blocking rule into the
model in the dialect it was trained on: DuckDB quotes identifiers with double
quotes (``"name_l"``), which Spark SQL reads as a string literal, and the
two engines name their similarity functions differently
(``jaro_winkler_similarity`` / ``jaro_winkler``). :func:`for_dialect` re-quotes
the identifiers of each SQL text and renames the functions (nothing else:
the SQL is written for both engines), so a model trained on DuckDB scores on
Spark and the reverse; the parameters (m, u, the prior, term-frequency
settings) are left as they are. The comparison levels themselves are
engine-independent (:mod:`matching.engine.comparisons`): string distances run
only on ASCII columns, where DuckDB's byte counts and Spark's character
counts are the same.
"""

from __future__ import annotations

import copy
import re
from typing import Any

__all__ = ["for_dialect", "translate_sql"]

#: The same function under each engine's name (Splink's dialect classes).
_FUNCTIONS = {
    "duckdb": {"jaro_winkler": "jaro_winkler_similarity", "jaro": "jaro_similarity",
               "damerau_levenshtein": "damerau_levenshtein", "levenshtein": "levenshtein"},
    "spark": {"jaro_winkler": "jaro_winkler", "jaro": "jaro_sim",
              "damerau_levenshtein": "damerau_levenshtein", "levenshtein": "levenshtein"},
}


_QUOTE = {"duckdb": '"', "spark": "`"}
#: a single-quoted literal (kept as it is), a quoted identifier, or a word
_TOKEN = re.compile(r"('(?:[^']|'')*')|([\"`])((?:(?!\2).)*)\2|([A-Za-z_][A-Za-z0-9_]*)(?=\s*\()")


def translate_sql(sql: str, source: str, target: str) -> str:
    """One SQL condition (a level's or a blocking rule's) from ``source`` to ``target``:
    identifiers re-quoted, similarity functions renamed, nothing else touched (so a
    round trip gives back the same text)."""
    if source == target:
        return sql
    for name in (source, target):
        if name not in _QUOTE:
            raise ValueError(f"no SQL dialect {name!r}; expected one of {sorted(_QUOTE)}")
    names = {engine_name.lower(): canon for canon, engine_name in _FUNCTIONS[source].items()}
    quote = _QUOTE[target]

    def swap(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return m.group(1)
        if m.group(2) is not None:
            if m.group(2) != _QUOTE[source]:
                return m.group(0)
            return f"{quote}{m.group(3)}{quote}"
        word = m.group(4)
        canon = names.get(word.lower())
        return _FUNCTIONS[target][canon] if canon else word

    return _TOKEN.sub(swap, sql)


def for_dialect(splink: dict[str, Any], target: str) -> dict[str, Any]:
    """The Splink model dict with every SQL text in ``target``'s dialect."""
    source = str(splink.get("sql_dialect") or "duckdb")
    if source == target:
        return splink
    out = copy.deepcopy(splink)
    out["sql_dialect"] = target
    for comparison in out.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            level["sql_condition"] = translate_sql(level["sql_condition"], source, target)
    rules = []
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        rule = dict(rule) if isinstance(rule, dict) else {"blocking_rule": str(rule)}
        rule["blocking_rule"] = translate_sql(rule["blocking_rule"], source, target)
        rule["sql_dialect"] = target
        rules.append(rule)
    out["blocking_rules_to_generate_predictions"] = rules
    return out
