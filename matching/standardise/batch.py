"""The batch path: standardise whole tables column-wise, chunk by chunk.

It runs the same steps as the per-record path
(:data:`matching.standardise.steps.STEPS`), but each step once per *distinct
combination of its inputs* in a chunk, not once per row: every value is kept
dictionary-encoded (an integer code per row into an array of distinct
values), a step groups the rows by its inputs' codes, calls its function once
per group and hands its outputs on as new encoded columns. Only integer
arrays are touched per row, with numpy. A row's issue codes are combined the
same way, by group of issue sets.

Chunks can be spread over a process pool (forkserver, modules preloaded) with
a bounded number in flight, so memory stays flat whatever the input size, and
results come back in input order. A pool worker can turn its result into what
the caller needs (say, CSV text) before sending it back, so that neither
DataFrames nor Python objects per row cross between processes.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import chain, repeat
from operator import itemgetter
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matching.config import CodeMaps
from matching.parallel import map_ordered
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS
from matching.standardise.steps import (
    PASS_THROUGH,
    STEPS,
    Context,
    Step,
    clean_cell,
    finish_issues,
    plain_fields,
    raw_key,
)
from matching.standardise.text import simplified_in_advance, to_halfwidth

__all__ = ["StandardisedChunk", "standardise_frame", "standardise_chunks", "KEPT_COLUMNS"]

#: Kept besides OUTPUT_COLUMNS: ``updated_key``, the UTC instant of ``updated_at``
#: as text that orders correctly (microseconds; '' when missing).
KEPT_COLUMNS: tuple[str, ...] = ("updated_key",)

T = TypeVar("T")

#: Characters that make a CSV field need quotes (as Python's csv module decides).
_CSV_SPECIAL = (",", '"', "\r", "\n")


def _objects(values: Iterable[object], count: int) -> np.ndarray:
    """A one-dimensional object array of exactly these values."""
    return np.fromiter(values, dtype=object, count=count)


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A dictionary-encoded column: row ``i`` holds ``values[codes[i]]``."""

    codes: np.ndarray
    values: np.ndarray

    def materialise(self, rows: np.ndarray | None = None) -> np.ndarray:
        codes = self.codes if rows is None else self.codes[rows]
        return self.values[codes]


def _encode_cells(cells: np.ndarray) -> _Encoded:
    """Raw cells → encoded trimmed text (None when empty), cleaned once per value.
    Not ``pd.factorize``: its string table compares C strings, so a cell with a NUL
    would share a code with the cell that ends at that NUL ("a" and "a\x00b")."""
    try:
        return _encode_arrow(pa.array(cells, type=pa.string(), from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: numbers, say
        distinct: dict[object, int] = {}
        codes = np.fromiter((distinct.setdefault(v, len(distinct)) for v in cells.tolist()),
                            dtype=np.intp, count=len(cells))
        return _Encoded(codes, _objects(map(clean_cell, distinct), len(distinct)))


#: What ``str.strip()`` takes off: every character ``str.isspace()`` holds true for.
_PY_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def _encode_arrow(cells: pa.ChunkedArray | pa.Array) -> _Encoded:
    """Arrow text cells → encoded trimmed text; Arrow finds the distinct values and
    trims them (what :func:`clean_cell` does: ``str.strip()``, None when empty)."""
    encoded = pc.dictionary_encode(cells, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    trimmed = pc.utf8_trim(encoded.dictionary, characters=_PY_WHITESPACE)
    uniques = pc.if_else(pc.equal(trimmed, ""), None, trimmed).to_pylist()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    return _Encoded(codes, _objects(uniques, len(uniques)))


def _by_value(groups: np.ndarray, per_group: np.ndarray) -> _Encoded:
    """A step's output, one value per group, encoded by distinct value: groups
    that differ in their inputs often share an output (the source system of
    rows that differ in their key), and later steps should see them as one."""
    codes, values = pd.factorize(per_group)  # None gets code -1
    missing = codes < 0
    if len(values) + bool(missing.any()) == len(per_group):
        return _Encoded(groups, per_group)
    codes[missing] = len(values)
    return _Encoded(codes[groups], np.append(values.astype(object), [None]))


def _groups(columns: list[_Encoded]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by their values' codes in ``columns``: each row's group
    number (0, 1, … in order of first appearance) and each group's first row."""
    key = columns[0].codes
    for col in columns[1:]:
        key = pd.factorize(key * len(col.values) + col.codes)[0]  # stays below n: no overflow
    if len(columns) == 1:
        key = pd.factorize(key)[0]
    groups = int(key.max()) + 1 if len(key) else 0
    first = np.empty(groups, dtype=np.intp)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)  # the last write per group wins
    return key, first


class _IssueSets:
    """Each row's issue codes so far, as a number into a list of distinct
    concatenations of the steps' issue tuples."""

    def __init__(self, rows: int) -> None:
        self.codes = np.zeros(rows, dtype=np.intp)
        self.sets: list[tuple[str, ...]] = [()]

    def add(self, groups: np.ndarray, per_group: list[tuple[str, ...]]) -> None:
        """Append the issues a step found, ``per_group[g]`` for rows of group g."""
        if not any(per_group):  # most steps find nothing in most chunks
            return
        distinct: dict[tuple[str, ...], int] = {}
        local = np.fromiter((distinct.setdefault(t, len(distinct)) for t in per_group),
                            dtype=np.intp, count=len(per_group))
        if not distinct or list(distinct) == [()]:
            return
        m = len(distinct)
        tuples = list(distinct)
        self.codes, combos = pd.factorize(self.codes * m + local[groups])
        self.sets = [self.sets[c // m] + tuples[c % m] for c in combos.tolist()]


def _run_screened(step: Step, ctx: Context, state: dict[str, _Encoded],
                  issues: _IssueSets) -> None:
    """A one-input step on the distinct values its screen picks; the rest pass as they are."""
    assert step.screen is not None
    (name,) = step.outputs
    col = state[step.inputs[0]]
    picked = np.flatnonzero(step.screen(col.values))
    if not len(picked):
        state[name] = col
        return
    values = col.values.copy()
    found: list[tuple[str, ...]] = [()] * len(values)
    for i in picked.tolist():
        values[i], found[i] = step.run(ctx, values[i])
    state[name] = _Encoded(col.codes, values)
    issues.add(col.codes, found)


def _run_batched(step: Step, ctx: Context, state: dict[str, _Encoded],
                 issues: _IssueSets) -> None:
    """A one-input step with a column-wise form: that on the distinct values it
    takes, ``run`` on the others."""
    assert step.batch is not None
    col = state[step.inputs[0]]
    done, outputs = step.batch(col.values)
    rest = np.flatnonzero(~done).tolist()
    results = [step.run(ctx, col.values[i]) for i in rest]
    for j, name in enumerate(step.outputs):
        values = outputs[j]
        for i, result in zip(rest, results, strict=True):
            values[i] = result[j]
        state[name] = _encoded_output(name, col.codes, values)
    if rest:
        found: list[tuple[str, ...]] = [()] * len(col.values)
        for i, result in zip(rest, results, strict=True):
            found[i] = result[-1]
        issues.add(col.codes, found)


#: The values a later step reads: only these need their equal outputs of different
#: groups merged into one code (see _by_value); the rest are only ever materialised.
_READ_LATER = frozenset(name for step in STEPS for name in step.inputs)


def _encoded_output(name: str, groups: np.ndarray, per_group: np.ndarray) -> _Encoded:
    return _by_value(groups, per_group) if name in _READ_LATER else _Encoded(groups, per_group)


def _run_step(step: Step, ctx: Context, state: dict[str, _Encoded], issues: _IssueSets) -> None:
    if step.simplifies:
        texts = [v for name in step.simplifies for v in state[name].values.tolist() if v]
        with simplified_in_advance(chain(texts, map(to_halfwidth, texts))):
            _run_plain_step(step, ctx, state, issues)
    else:
        _run_plain_step(step, ctx, state, issues)


def _run_plain_step(step: Step, ctx: Context, state: dict[str, _Encoded],
                    issues: _IssueSets) -> None:
    if step.screen is not None:
        _run_screened(step, ctx, state, issues)
        return
    if step.batch is not None:
        _run_batched(step, ctx, state, issues)
        return
    columns = [state[name] for name in step.inputs]
    groups, first = _groups(columns)
    args = [col.values[col.codes[first]] for col in columns]
    results = list(map(step.run, repeat(ctx), *args))
    n = len(results)
    for j, name in enumerate(step.outputs):
        state[name] = _encoded_output(name, groups, _objects(map(itemgetter(j), results), n))
    issues.add(groups, list(map(itemgetter(-1), results)))


class StandardisedChunk:
    """One chunk's result: the admitted rows (OUTPUT_COLUMNS), kept encoded until
    asked for, and the rejected raw rows (the input columns as read, plus
    ``reasons``)."""

    def __init__(self, columns: dict[str, _Encoded], admitted_rows: np.ndarray,
                 rejected: pd.DataFrame, rejected_rows: np.ndarray | None = None) -> None:
        self._columns = columns
        self._rows = admitted_rows
        self.rejected = rejected
        #: Positions in the input of the admitted and of the rejected rows.
        self.admitted_positions = admitted_rows
        self.rejected_positions = (np.empty(0, dtype=np.intp) if rejected_rows is None
                                   else rejected_rows)

    def __len__(self) -> int:
        return len(self._rows)

    @cached_property
    def admitted(self) -> pd.DataFrame:
        data = {c: self._columns[c].materialise(self._rows) for c in OUTPUT_COLUMNS}
        return pd.DataFrame(data, columns=list(OUTPUT_COLUMNS), dtype=object)

    def values(self, column: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Column ``column`` (OUTPUT_COLUMNS or KEPT_COLUMNS) of the admitted rows, or
        of the given positions among the admitted rows."""
        chosen = self._rows if rows is None else self._rows[rows]
        return self._columns[column].materialise(chosen)

    def encoded(self, column: str, rows: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Column ``column`` of the admitted rows (or of the given positions among
        them) as (codes, values): row ``i`` holds ``values[codes[i]]``."""
        col = self._columns[column]
        chosen = self._rows if rows is None else self._rows[rows]
        return col.codes[chosen], col.values

    def counts(self, column: str) -> Counter[str]:
        """How many admitted rows hold each value of ``column`` (empty values left out)."""
        col = self._columns[column]
        found = np.bincount(col.codes[self._rows], minlength=len(col.values))
        counts: Counter[str] = Counter()
        for value, n in zip(col.values.tolist(), found.tolist(), strict=True):
            if value is not None and n:
                counts[value] += n
        return counts

    def admitted_csv(self) -> bytes:
        """The admitted rows as UTF-8 CSV lines (no header), OUTPUT_COLUMNS in order,
        byte for byte as ``DataFrame.to_csv(index=False, lineterminator="\\n")``
        writes them. Each distinct value is quoted once; Arrow puts the rows
        together, not a Python loop."""
        if not len(self._rows):
            return b""
        last = len(OUTPUT_COLUMNS) - 1
        fields = []
        for i, c in enumerate(OUTPUT_COLUMNS):
            col = self._columns[c]
            texts = ["" if v is None else v for v in col.values.tolist()]
            if _needs_quotes("".join(texts)):  # rare: quote the values that need it
                texts = [_csv_field(t) for t in texts]
            if i == last:
                texts = [t + "\n" for t in texts]
            fields.append(pa.array(texts, type=pa.string()).take(col.codes[self._rows]))
        lines = pc.binary_join_element_wise(*fields, ",")
        _, offsets, data = lines.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
        return memoryview(data)[bounds[0]:bounds[-1]].tobytes()


def _needs_quotes(text: str) -> bool:
    return any(char in text for char in _CSV_SPECIAL)


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if _needs_quotes(text) else text


def standardise_frame(frame: pd.DataFrame | pa.Table, codes: CodeMaps) -> StandardisedChunk:
    """Standardise source rows (all text), a DataFrame or an Arrow table, in
    this process. Rejected rows come back as a DataFrame either way."""
    rows = len(frame)
    ctx = Context(codes, plain_fields())
    state: dict[str, _Encoded] = {}
    names = frame.column_names if isinstance(frame, pa.Table) else frame.columns
    for column in INPUT_COLUMNS:
        if column not in names:
            cells = _Encoded(np.zeros(rows, dtype=np.intp), _objects([None], 1))
        elif isinstance(frame, pa.Table):
            cells = _encode_arrow(frame.column(column))
        else:
            cells = _encode_cells(frame[column].to_numpy(dtype=object))
        state[raw_key(column)] = cells
    issues = _IssueSets(rows)
    for step in STEPS:
        _run_step(step, ctx, state, issues)
    finished = [finish_issues(s) for s in issues.sets]
    columns = {c: state[PASS_THROUGH.get(c, c)] for c in OUTPUT_COLUMNS if c != "issues"}
    columns.update({c: state[c] for c in KEPT_COLUMNS})
    n = len(finished)
    columns["issues"] = _Encoded(issues.codes, _objects(map(itemgetter(0), finished), n))
    rejected_set = np.fromiter((bool(f[1]) for f in finished), dtype=bool, count=n)
    is_rejected = rejected_set[issues.codes]
    bad_rows = np.flatnonzero(is_rejected)
    if isinstance(frame, pa.Table):
        bad = frame.take(bad_rows).to_pandas()
    else:
        bad = frame.iloc[bad_rows].copy()
    bad["reasons"] = [";".join(finished[c][1]) for c in issues.codes[bad_rows].tolist()]
    return StandardisedChunk(columns, np.flatnonzero(~is_rejected), bad.reset_index(drop=True),
                             bad_rows)


def _work(codes: CodeMaps, finish: Callable[[StandardisedChunk], T],
          frame: pd.DataFrame | pa.Table) -> T:
    return finish(standardise_frame(frame, codes))


def _same(chunk: StandardisedChunk) -> StandardisedChunk:
    return chunk


def standardise_chunks(
    chunks: Iterable[pd.DataFrame | pa.Table],
    codes: CodeMaps,
    workers: int | None = None,
    finish: Callable[[StandardisedChunk], T] = _same,  # type: ignore[assignment]
) -> Iterator[T]:
    """Standardise a stream of chunks, in order, on ``workers`` processes
    (default: every core), yielding ``finish(result)`` for each chunk; ``finish``
    runs where the chunk was standardised, so in a pool it must be a module-level
    function. At most ``2 × workers`` chunks are in flight."""
    yield from map_ordered(partial(_work, codes, finish), chunks, workers=workers,
                           preload=[__name__, finish.__module__, "matching.standardise.warm"])
