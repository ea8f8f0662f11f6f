"""Record pairs as integer arrays for clustering, built without a Python object per id.

A matching run joins millions of records along millions of pairs. Held as
pandas frames of id strings, every pair and record costs Python string
objects (≈ 60 bytes per id, three times over at 5M records). Here the ids stay
in Arrow until they are turned into positions in the run's sorted record list
(Arrow's hash lookup), and the pairs become numpy arrays: positions, score,
tier and a code into the run's list of rule names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["EdgeParts", "Edges", "RecordIds", "RuleNames", "exclusive_codes"]

Ids: TypeAlias = pa.Array | pa.ChunkedArray


class RecordIds:
    """The run's records, sorted by ``unique_id``: a record is its position here."""

    def __init__(self, unique_id: Ids) -> None:
        # one string type on both sides of the lookup (Spark gives large_string)
        unique_id = unique_id.cast(pa.large_string())
        if isinstance(unique_id, pa.ChunkedArray):
            unique_id = unique_id.combine_chunks()
        self.unique_id: pa.Array = unique_id

    def __len__(self) -> int:
        return len(self.unique_id)

    def positions(self, ids: Ids | Sequence[str]) -> np.ndarray:
        """Position of each id (int64); ``ValueError`` naming ids that are not records."""
        if not isinstance(ids, pa.Array | pa.ChunkedArray):
            ids = pa.array(list(ids), pa.large_string())
        ids = ids.cast(pa.large_string())
        if len(ids) == 0:
            return np.empty(0, dtype=np.int64)
        pos = pc.index_in(ids, value_set=self.unique_id)
        if pos.null_count:
            missing = pc.filter(ids, pc.is_null(pos)).slice(0, 3).to_pylist()
            raise ValueError(f"pairs name records not in the input: {missing}")
        return pos.to_numpy(zero_copy_only=False).astype(np.int64)


class RuleNames:
    """Rule names as small integer codes (edges carry the code, not the string)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._code: dict[str, int] = {}

    def code(self, name: str) -> int:
        if name not in self._code:
            self._code[name] = len(self.names)
            self.names.append(name)
        return self._code[name]

    def sort_rank(self) -> np.ndarray:
        """Per code, the rank of its name in sorted order (for tie-breaking by name)."""
        rank = np.empty(len(self.names), dtype=np.int64)
        rank[np.argsort(np.array(self.names, dtype=object), kind="stable")] = np.arange(
            len(self.names))
        return rank

    def as_objects(self, codes: np.ndarray) -> np.ndarray:
        """The names of ``codes`` as an object array (one shared string per rule)."""
        return np.array(self.names, dtype=object)[codes]


@dataclass(frozen=True)
class Edges:
    """Pairs of record positions, with what joins them."""

    left: np.ndarray  # int64
    right: np.ndarray  # int64
    score: np.ndarray  # float64
    tier: np.ndarray  # int8
    rule: np.ndarray  # int32 code in RuleNames

    def __len__(self) -> int:
        return len(self.left)

    def take(self, index: np.ndarray) -> Edges:
        return Edges(self.left[index], self.right[index], self.score[index],
                     self.tier[index], self.rule[index])


class EdgeParts:
    """Pairs gathered by id while the run goes (the records are known at its end)."""

    def __init__(self) -> None:
        self._parts: list[tuple[Ids, Ids, np.ndarray, int | np.ndarray, int | np.ndarray]] = []

    def add(self, left: Ids | Sequence[str], right: Ids | Sequence[str],
            score: float | np.ndarray, tier: int, rule: int | np.ndarray) -> None:
        left = left if isinstance(left, pa.Array | pa.ChunkedArray) else pa.array(
            list(left), pa.string())
        right = right if isinstance(right, pa.Array | pa.ChunkedArray) else pa.array(
            list(right), pa.string())
        scores = np.broadcast_to(np.asarray(score, dtype=np.float64), (len(left),))
        self._parts.append((left, right, scores, tier, rule))

    def resolve(self, ids: RecordIds) -> Edges:
        """All parts, in the order added, as positions in ``ids``."""
        lefts, rights, scores, tiers, rules = [], [], [], [], []
        for left, right, score, tier, rule in self._parts:
            n = len(left)
            both = ids.positions(pa.chunked_array(_chunks(left) + _chunks(right),
                                                  pa.large_string()))
            lefts.append(both[:n])
            rights.append(both[n:])
            scores.append(score)
            tiers.append(np.full(n, tier, dtype=np.int8))
            rules.append(np.broadcast_to(np.asarray(rule, dtype=np.int32), (n,)))
        if not lefts:
            empty = np.empty(0, dtype=np.int64)
            return Edges(empty, empty, np.empty(0), np.empty(0, np.int8),
                         np.empty(0, np.int32))
        return Edges(np.concatenate(lefts), np.concatenate(rights),
                     np.concatenate(scores).astype(np.float64, copy=False),
                     np.concatenate(tiers), np.concatenate(rules).astype(np.int32, copy=False))


def _chunks(values: Ids) -> list[pa.Array]:
    values = values.cast(pa.large_string())
    return list(values.chunks) if isinstance(values, pa.ChunkedArray) else [values]


def exclusive_codes(values: Ids) -> np.ndarray:
    """Per record an integer code of its value, ``-1`` for none (null, empty or blank),
    equal codes for equal values: what :func:`cluster_records` reads from strings, made
    in Arrow instead of from one Python string per record."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    encoded = pc.dictionary_encode(values)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    words = encoded.dictionary
    # blank as cluster_records counts it (str.strip()): a value with no letter or digit
    # may be blank; only those few are checked in Python
    maybe = pc.invert(pc.match_substring_regex(words, r"[\p{L}\p{N}]"))
    candidates = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
    blank = [i for i, w in zip(candidates.tolist(), pc.take(words, candidates).to_pylist(),
                               strict=True) if not w.strip()]
    if blank:
        codes[np.isin(codes, blank)] = -1
    return codes
