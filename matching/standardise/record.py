"""The per-record path: one raw source row in, one standardised row out.

It runs :data:`matching.standardise.steps.STEPS` — the single definition of
how a record is standardised and admitted — once for the row. The batch path
(:mod:`matching.standardise.batch`) runs the same steps column-wise; the
real-time API calls this directly.

To cost no more than hand-written code, the steps are compiled once, at
import, into one straight-line function (see :func:`_compile`): a local
variable per value, one call per step, no dictionary look-ups in between.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from matching.config import CodeMaps
from matching.standardise import steps
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS
from matching.standardise.steps import (
    PASS_THROUGH,
    STEPS,
    Context,
    Step,
    clean_cell,
    finish_issues,
    raw_key,
)

__all__ = ["Outcome", "standardise_record", "cached_fields"]

#: Re-exported: the process-wide field caches the steps use.
cached_fields = steps.cached_fields


@dataclass(frozen=True, slots=True)
class Outcome:
    """A standardised row (keys: OUTPUT_COLUMNS, values: text or None) and, if the
    row cannot be admitted, the reasons (REJECTING issue codes) it was rejected for."""

    record: dict[str, str | None]
    rejected: tuple[str, ...]


def _compile(plan: tuple[Step, ...]) -> Callable[..., tuple[dict[str, Any], tuple[str, ...]]]:
    """``run(ctx, *cells)`` for the raw cells in INPUT_COLUMNS order: every step
    of ``plan`` in order, then the record (OUTPUT_COLUMNS) and its issue codes.

    For the first steps the generated code reads::

        [v14, i0] = step0(ctx, v0, v1)
        [v15, i1] = step1(ctx, v2)
    """
    names = {raw_key(c): f"v{i}" for i, c in enumerate(INPUT_COLUMNS)}
    body: list[str] = []
    namespace: dict[str, Any] = {"finish_issues": finish_issues}
    for n, step in enumerate(plan):
        for key in step.outputs:
            names.setdefault(key, f"v{len(names)}")
        targets = "".join(f"{names[key]}, " for key in step.outputs)
        args = "".join(f", {names[key]}" for key in step.inputs)
        namespace[f"step{n}"] = step.run
        body.append(f"    [{targets}i{n}] = step{n}(ctx{args})")
    issues = ", ".join(f"*i{n}" for n in range(len(plan)))
    body.append(f"    text, rejected = finish_issues(({issues},))")
    names["issues"] = "text"
    items = ", ".join(f"{c!r}: {names[PASS_THROUGH.get(c, c)]}" for c in OUTPUT_COLUMNS)
    body.append(f"    return {{{items}}}, rejected")
    cells = ", ".join(names[raw_key(c)] for c in INPUT_COLUMNS)
    source = f"def run(ctx, {cells}):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<steps compiled by {__name__}>", "exec"), namespace)
    return namespace["run"]


_run = _compile(STEPS)
_last_context: list[Context] = []


def _context(codes: CodeMaps, fields: Any) -> Context:
    """The context for these tables and fields, reused while they stay the same."""
    if _last_context and _last_context[0].codes is codes and _last_context[0].fields is fields:
        return _last_context[0]
    ctx = Context(codes, fields)
    _last_context[:] = [ctx]
    return ctx


def standardise_record(raw_row: Mapping[str, object], codes: CodeMaps) -> Outcome:
    """Standardise one source row (CONTRACT.md §1 columns; missing keys = empty).

    Never raises on dirty data: every problem becomes an issue code, and a row
    that no customer can be made from comes back with ``rejected`` set.
    """
    get = raw_row.get
    record, rejected = _run(_context(codes, steps.cached_fields()),
                            *[clean_cell(get(column)) for column in INPUT_COLUMNS])
    return Outcome(record, rejected)
