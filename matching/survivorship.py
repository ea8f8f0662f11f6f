"""Golden records by survivorship rules (config/survivorship.yaml).

Pure and vectorised: a frame of source records with their customer number
in, one golden row per customer out. Same records, same golden record,
whatever their order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matching.config import DEFAULT_CONFIG_DIR, load_yaml
from matching.exceptions import ConfigError

__all__ = ["Survivorship", "load_survivorship", "golden_records", "golden_record", "STRATEGIES"]

STRATEGIES = ("valid", "source_priority", "most_recent", "most_complete")
#: Fields that travel with another: the golden id_type is that of the golden id_number.
_COMPANIONS = {"id_number": ("id_type",)}


@dataclass(frozen=True)
class Survivorship:
    source_priority: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]


def load_survivorship(config_dir: Path = DEFAULT_CONFIG_DIR) -> Survivorship:
    path = config_dir / "survivorship.yaml"
    raw = load_yaml(path)
    try:
        priority = tuple(str(s) for s in raw["source_priority"])
        fields = {str(f): tuple(str(s) for s in strategies)
                  for f, strategies in raw["fields"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: expected source_priority (a list) and fields "
                          f"(field: [strategy, ...]); {exc!r}") from exc
    for field, strategies in fields.items():
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            raise ConfigError(f"{path}: field {field}: unknown strategy {unknown[0]!r}; "
                              f"expected one of {', '.join(STRATEGIES)}")
    return Survivorship(priority, fields)


def _valid(field: str, frame: pd.DataFrame) -> pd.Series:
    if field == "id_number":
        return frame["id_valid"].eq("1")
    if field == "gender":
        return frame["gender"].isin(["M", "F"])
    return pd.Series(True, index=frame.index)


def golden_records(records: pd.DataFrame, rules: Survivorship) -> pd.DataFrame:
    """``records``: ``customer_no``, ``record_key``, ``source_system``,
    ``updated_at``, ``id_valid`` and the configured fields. Returns one row per
    customer_no with each configured field (and companions), None where no
    record holds a value."""
    customers = pd.Index(sorted(records["customer_no"].unique()), name="customer_no")
    out = pd.DataFrame(index=customers)
    # a customer with one record: its values are the golden ones, no ranking needed
    alone = ~records["customer_no"].duplicated(keep=False)
    single = records[alone].set_index("customer_no")
    records = records[~alone]
    rank = {s: i for i, s in enumerate(rules.source_priority)}
    # Every ranking key as integers, computed once: a string key sorted per field
    # (customer, time, record key) cost more than everything else together.
    customer = pd.factorize(records["customer_no"], sort=True)[0]
    record = pd.factorize(records["record_key"], sort=True)[0]
    recent = -pd.factorize(records["updated_at"].fillna(""), sort=True)[0]  # newest first
    prio = records["source_system"].map(rank).fillna(len(rank)).astype(int).to_numpy()
    for field, strategies in rules.fields.items():
        values = records[field]
        text_len = values.fillna("").astype(str).str.len().to_numpy()
        has = np.flatnonzero(values.notna().to_numpy() & (text_len > 0))
        keys: list[np.ndarray] = [customer]  # the first sorts first; smaller is better
        for strategy in strategies:
            if strategy == "valid":
                keys.append(-_valid(field, records).to_numpy().astype(np.int8))
            elif strategy == "source_priority":
                keys.append(prio)
            elif strategy == "most_recent":
                keys.append(recent)
            else:
                keys.append(-text_len)
        keys.append(record)
        order = has[np.lexsort([k[has] for k in reversed(keys)])]
        first = np.ones(len(order), dtype=bool)
        first[1:] = customer[order][1:] != customer[order][:-1]
        best = order[first]
        best_customer = records["customer_no"].to_numpy()[best]
        for column in (field, *_COMPANIONS.get(field, ())):
            chosen = pd.Series(records[column].to_numpy()[best], index=best_customer)
            own = single[column].where(single[field].notna()
                                       & single[field].astype(str).str.len().gt(0))
            both = [part for part in (chosen, own) if len(part)]
            out[column] = (pd.concat(both) if len(both) > 1 else both[0]).reindex(customers) \
                if both else None
    return out.astype(object).where(out.notna(), None).reset_index()


def _is_valid(field: str, record: Mapping[str, Any]) -> bool:
    if field == "id_number":
        return record.get("id_valid") == "1"
    if field == "gender":
        return record.get("gender") in ("M", "F")
    return True


def golden_record(records: Sequence[Mapping[str, Any]], rules: Survivorship
                  ) -> dict[str, Any]:
    """The golden fields of ONE customer from its records (the same keys as a row of
    :func:`golden_records`, which it equals: the row-wise twin for the real-time
    path, where building frames for one customer costs more than the choice)."""
    rank = {s: i for i, s in enumerate(rules.source_priority)}
    # newest first; an unknown time ("") sorts as the oldest, as in golden_records
    times = sorted({str(r.get("updated_at") or "") for r in records}, reverse=True)
    recent = {t: i for i, t in enumerate(times)}
    out: dict[str, Any] = {}
    for field, strategies in rules.fields.items():
        best: Mapping[str, Any] | None = None
        best_key: tuple[Any, ...] = ()
        for r in records:
            value = r.get(field)
            if value is None or not str(value):
                continue
            key: list[Any] = []
            for strategy in strategies:
                if strategy == "valid":
                    key.append(0 if _is_valid(field, r) else 1)
                elif strategy == "source_priority":
                    key.append(rank.get(str(r.get("source_system")), len(rank)))
                elif strategy == "most_recent":
                    key.append(recent[str(r.get("updated_at") or "")])
                else:
                    key.append(-len(str(value)))
            key.append(str(r.get("record_key")))
            if best is None or tuple(key) < best_key:
                best, best_key = r, tuple(key)
        for column in (field, *_COMPANIONS.get(field, ())):
            out[column] = None if best is None else best.get(column)
    return out
