"""The evidence a pair needs, beyond its match probability, to auto-merge.

Fellegi–Sunter adds the fields' match weights as if the fields were
independent. They are not where people live together or companies belong
to one owner: a household shares its mobile, landline, e-mail and address,
twins share a birth date too, one legal representative's companies share a
phone, an address and a region. Such a pair can score above the auto-merge
threshold on shared evidence alone. So a machine merge also needs evidence
the model can check on any data, whatever fields it holds:

- **no field disagrees**: no comparison's weight (with its term-frequency
  adjustment) is at or below ``-veto_weight``; the model found a strong
  reason against, and the agreement elsewhere may be correlated. Unless
  ``overrule_fields`` independent fields agree: then one disagreement is a
  keying error or a change (a new legal representative, a moved person),
  not a different customer (FEBRL's duplicates: another name, the same
  social security number, birth date and address);
- **enough independent fields agree**: at least ``min_fields`` fields with a
  weight of ``min_weight`` or more, the ``shared`` fields (what a household
  or a group of companies shares) counting together as one;
- **one of them tells people apart**: one agreeing field is ``distinct``
  (for persons the name or the identity number; no two members of a
  household share either).

Twins of the other sex (Daniel / Danielle: one surname, birth date and
home, given names a letter or two apart) are kept apart by the gender, an
exclusive attribute of model pairs in clustering (cluster.py), not here:
no chain of model pairs may join a man and a woman either.

Weights are read from the scored pairs (Splink's ``mw_*`` columns), so the
guard follows whatever the model learned on the deployment's data; the
configuration only says which fields a group shares and how many bits count
as agreement. A comparison absent from a model (or NULL on a pair) adds 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["Guard", "field_weights", "guard_holds", "guard_holds_on"]


@dataclass(frozen=True)
class Guard:
    #: bits: a field agrees at this weight or more
    min_weight: float = 6.0
    #: independent agreeing fields needed (the shared ones counting as one)
    min_fields: int = 2
    #: fields no two members of a household (group of companies) share
    distinct: tuple[str, ...] = ()
    #: fields a household (group of companies) may share: together one field
    shared: tuple[str, ...] = ()
    #: bits: a field at minus this or less vetoes the merge ...
    veto_weight: float = 6.0
    #: ... unless this many independent fields agree (0: never overruled)
    overrule_fields: int = 3


def field_weights(pairs: pa.Table) -> dict[str, np.ndarray]:
    """Per comparison, each pair's match weight including its term-frequency
    adjustment (0 where NULL)."""
    return dict(_field_weights(pairs))


def _field_weights(pairs: pa.Table) -> Iterator[tuple[str, np.ndarray]]:
    """:func:`field_weights` one comparison at a time (one array of pairs in memory)."""
    for col in pairs.column_names:
        if col.startswith("mw_") and not col.startswith("mw_tf_adj_"):
            name = col[3:]
            w = _floats(pairs, col)
            tf = f"mw_tf_adj_{name}"
            if tf in pairs.column_names:
                w = w + _floats(pairs, tf)
            yield name, w


def _floats(pairs: pa.Table, col: str) -> np.ndarray:
    values = pairs.column(col).to_numpy(zero_copy_only=False).astype(float)
    return np.nan_to_num(values, nan=0.0)


def guard_holds(pairs: pa.Table, guard: Guard | None) -> np.ndarray:
    """True where the pair shows the evidence :class:`Guard` asks for (everywhere
    when ``guard`` is None)."""
    if guard is None:
        return np.ones(pairs.num_rows, dtype=bool)
    return guard_holds_on(_field_weights(pairs), pairs.num_rows, guard)


def guard_holds_on(weights: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]],
                   n: int, guard: Guard | None) -> np.ndarray:
    """:func:`guard_holds` on per-comparison weights (with their term-frequency
    adjustment, 0 where NULL) of ``n`` pairs, as a mapping or (name, weights)
    items: the real-time API's entry."""
    if guard is None:
        return np.ones(n, dtype=bool)
    veto = np.zeros(n, dtype=bool)
    independent = np.zeros(n, dtype=np.int64)
    shared = np.zeros(n, dtype=bool)
    distinct = np.zeros(n, dtype=bool)
    for name, w in (weights.items() if isinstance(weights, Mapping) else weights):
        veto |= w <= -guard.veto_weight
        agrees = w >= guard.min_weight
        if name in guard.shared:
            shared |= agrees
        else:
            independent += agrees
        if name in guard.distinct:
            distinct |= agrees
    independent += shared
    if guard.overrule_fields:
        veto &= independent < guard.overrule_fields
    return ~veto & (independent >= guard.min_fields) & distinct
