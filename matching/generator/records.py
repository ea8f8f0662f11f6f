"""From true customers to source rows: how many records each customer has,
which system sends each, on which day it arrives, which are sent again as
updates, their keys and their ``updated_at``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from matching.generator.params import SOURCE_SYSTEMS, GeneratorParams
from matching.generator.people import BASE_DATE

__all__ = ["Rows", "plan_rows", "source_keys", "updated_at", "output_order"]

_EPOCH_START = np.datetime64("2012-01-01T00:00:00", "s")
_BASE = np.datetime64(datetime.combine(BASE_DATE, datetime.min.time()), "s")


@dataclass
class Rows:
    """Rows of one block in entity-major order; a record's update follows it."""

    ent: np.ndarray      # entity index within the block
    rec: np.ndarray      # record index within the block (an update shares its record's)
    system: np.ndarray   # index into SOURCE_SYSTEMS
    day: np.ndarray      # 1-based day file
    update: np.ndarray   # bool: this row re-sends an earlier record

    def __len__(self) -> int:
        return len(self.ent)

    def take(self, index: np.ndarray | slice) -> Rows:
        return Rows(self.ent[index], self.rec[index], self.system[index], self.day[index],
                    self.update[index])


def _systems(params: GeneratorParams, org: bool) -> np.ndarray:
    table = params.org_systems if org else params.person_systems
    p = np.array([float(table.get(s, 0.0)) for s in SOURCE_SYSTEMS])
    return p / p.sum()


def plan_rows(rng: np.random.Generator, is_org: np.ndarray, params: GeneratorParams,
              days: int) -> Rows:
    """Records per entity, their systems, days and updates."""
    weights = np.array(params.records_per_entity)
    counts = rng.choice(np.arange(1, len(weights) + 1), size=len(is_org), p=weights / weights.sum())
    ent = np.repeat(np.arange(len(is_org)), counts)
    n = len(ent)
    system = np.empty(n, dtype=np.int64)
    rec_org = is_org[ent]
    for org in (False, True):
        sel = np.flatnonzero(rec_org == org)
        system[sel] = rng.choice(len(SOURCE_SYSTEMS), size=len(sel), p=_systems(params, org))
    if days <= 1:
        day = np.ones(n, dtype=np.int64)
        rng.random(n)  # keep the stream aligned whatever --days is
        return Rows(ent, np.arange(n), system, day, np.zeros(n, dtype=bool))
    later = rng.random(n) >= params.initial_load_share
    day = np.where(later, rng.integers(2, days + 1, n), 1)
    updated = (day < days) & (rng.random(n) < params.update_rate)
    up = np.flatnonzero(updated)
    up_day = day[up] + 1 + np.floor(rng.random(len(up)) * (days - day[up])).astype(np.int64)
    rec = np.concatenate([np.arange(n), up])
    is_update = np.concatenate([np.zeros(n, np.int64), np.ones(len(up), np.int64)])
    order = np.argsort(rec * 2 + is_update, kind="stable")
    return Rows(ent[rec][order], rec[order], system[rec][order],
                np.concatenate([day, up_day])[order],
                np.concatenate([np.zeros(n, bool), np.ones(len(up), bool)])[order])


def output_order(rng: np.random.Generator, rows: Rows) -> np.ndarray:
    """Rows grouped by day, shuffled within the day (files are not sorted by customer)."""
    return np.lexsort((rng.random(len(rows)), rows.day))


#: Per system: prefix, number of digits, multiplier (coprime to 10) of the
#: bijection serial → number, so keys look scattered yet never repeat.
_KEY_LAYOUT: dict[str, tuple[str, int, int]] = {
    "CORE": ("C", 10, 7_919_263),
    "UW": ("UW", 12, 104_729_381),
    "CLAIM": ("CL", 10, 3_571_113),
    "TELE": ("8", 11, 15_485_867),
    "FIN": ("F", 9, 2_750_159),
}


def source_keys(system: np.ndarray, serial: np.ndarray, seed: int) -> list[str]:
    """Keys in each system's own layout; unique per system for serial < 10**9.

    CORE ``C0123456789``, UW ``UW012345678901``, CLAIM ``CL0123456789``,
    TELE ``8…`` (12 digits), FIN ``F012345678``, WEB a UUID-like hex string.
    """
    out = [""] * len(serial)
    offset = (seed * 2_654_435_761) & 0xFFFFFFFF
    for s_idx, s_name in enumerate(SOURCE_SYSTEMS):
        sel = np.flatnonzero(system == s_idx)
        if not sel.size:
            continue
        r = serial[sel].astype(np.int64)
        if s_name == "WEB":
            u = r.astype(np.uint64)
            a = u * np.uint64(0x9E3779B97F4A7C15) + np.uint64(offset)
            b = u * np.uint64(0xC2B2AE3D27D4EB4F) + np.uint64(0x165667B19E3779F9)
            for i, x, y in zip(sel.tolist(), a.tolist(), b.tolist(), strict=True):
                h = f"{x:016x}{y:016x}"
                out[i] = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            continue
        prefix, width, mult = _KEY_LAYOUT[s_name]
        value = (r * mult + offset) % (10**width)
        for i, v in zip(sel.tolist(), value.tolist(), strict=True):
            out[i] = f"{prefix}{v:0{width}d}"
    return out


def updated_at(rng: np.random.Generator, rows: Rows) -> list[str]:
    """ISO 8601 times: day-1 rows any time since 2012, later rows during the
    day before their night, so an update is always newer than its record.
    CLAIM adds milliseconds, WEB the +08:00 offset."""
    n = len(rows)
    span = int((_BASE - _EPOCH_START) / np.timedelta64(1, "s"))
    old = _EPOCH_START + (span * rng.random(n) ** 0.7).astype("timedelta64[s]")
    window = (_BASE + ((rows.day - 2) * 86400 + 8 * 3600).astype("timedelta64[s]")
              + (rng.random(n) * 12 * 3600).astype("timedelta64[s]"))
    stamp = np.where(rows.day == 1, old, window)
    text = np.datetime_as_string(stamp, unit="s").tolist()
    ms = rng.integers(0, 1000, n).tolist()
    claim, web = SOURCE_SYSTEMS.index("CLAIM"), SOURCE_SYSTEMS.index("WEB")
    system = rows.system.tolist()
    for i in range(n):
        if system[i] == claim:
            text[i] = f"{text[i]}.{ms[i]:03d}"
        elif system[i] == web:
            text[i] = text[i] + "+08:00"
    return text


def night(day: int) -> str:
    """The calendar night of day file ``day`` (day 1 = BASE_DATE)."""
    return (BASE_DATE + timedelta(days=day - 1)).isoformat()
