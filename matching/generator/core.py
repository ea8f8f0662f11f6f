"""The generator's entry point: blocks of true customers → day files + truth.

Work is done in blocks of :data:`ENTITY_BLOCK` true customers. Block ``b``
draws from its own random stream, ``SeedSequence(seed, spawn_key=(b,))``,
and blocks are written in order, so the output depends on the seed, the
arguments and the parameters only — not on ``chunk_records`` (how many rows
are buffered before a write) nor on memory. ``records`` is the total number
of rows across all day files; the last block is cut where that total is
reached (an update never survives without its record).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matching.config import CodeMaps, load_code_maps
from matching.exceptions import ECIFError
from matching.generator.addresses import make_streets, moved_districts
from matching.generator.fields import address_text
from matching.generator.ids import IntSet, mobile_numbers
from matching.generator.org_rows import key_orgs
from matching.generator.orgs import Orgs, make_orgs
from matching.generator.params import SOURCE_SYSTEMS, GeneratorParams, error_kinds, trap_kinds
from matching.generator.people import People, make_people
from matching.generator.person_rows import key_people
from matching.generator.places import Districts, districts
from matching.generator.records import Rows, output_order, plan_rows, source_keys, updated_at
from matching.generator.writer import CONTRACT_COLUMNS, TableWriter, check_encoding

__all__ = ["generate", "GenerateSummary", "ENTITY_BLOCK", "TRUTH_COLUMNS", "TAG_COLUMNS"]

log = logging.getLogger(__name__)

#: True customers per block: a constant, so output never depends on chunking.
ENTITY_BLOCK = 8192
TRUTH_COLUMNS = ("source_system", "source_customer_id", "entity_id")
TAG_COLUMNS = ("day", "source_system", "source_customer_id", "entity_id", "update", "trap",
               "errors", "clean_id")
_VALUE_COLUMNS = CONTRACT_COLUMNS[2:13]


@dataclass
class GenerateSummary:
    files: list[Path]                 # day files in order, then truth.csv (and tags.csv)
    records_per_day: list[int]        # rows per day file
    entities: int                     # true customers with at least one row
    persons: int
    organisations: int
    source_records: int               # distinct source keys = rows of truth.csv
    error_counts: dict[str, int] = field(default_factory=dict)    # records with each error
    error_eligible: dict[str, int] = field(default_factory=dict)  # records it could apply to
    trap_entities: dict[str, int] = field(default_factory=dict)   # customers in each trap kind
    update_counts: dict[str, int] = field(default_factory=dict)   # update_mobile, update_address
    seconds: float = 0.0


@dataclass
class _Run:
    params: GeneratorParams
    codes: CodeMaps
    places: Districts
    seed: int
    days: int
    debug: bool
    ric_ids: IntSet = field(default_factory=IntSet)
    org_ids: IntSet = field(default_factory=IntSet)
    serial: int = 0
    persons_before: int = 0
    orgs_before: int = 0


def generate(out_dir: Path, records: int, seed: int, days: int = 1, fmt: str = "csv",
             encoding: str = "utf-8", params: GeneratorParams | None = None,
             chunk_records: int = 200_000, *, code_maps: CodeMaps | None = None,
             debug: bool = False) -> GenerateSummary:
    """Write ``day_001.csv`` … (or ``.parquet``) and ``truth.csv`` to ``out_dir``.

    ``records`` rows in all (day 1 the initial load, later days new records
    and updates); ``debug`` also writes ``tags.csv``: every row with its true
    customer, trap and the errors put into it.
    """
    if records <= 0 or days <= 0:
        raise ECIFError(f"records and days must be positive, got {records} and {days}")
    if fmt not in ("csv", "parquet"):
        raise ECIFError(f"unknown format {fmt!r}; expected csv or parquet")
    if fmt == "csv":
        check_encoding(encoding)
    started = time.perf_counter()
    params = (params or GeneratorParams()).with_overrides()
    run = _Run(params, code_maps or load_code_maps(), districts(), seed, days, debug)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = "csv" if fmt == "csv" else "parquet"
    day_files = [out_dir / f"day_{d:03d}.{ext}" for d in range(1, days + 1)]
    writers = [TableWriter(p, CONTRACT_COLUMNS, fmt, encoding, chunk_records) for p in day_files]
    truth = TableWriter(out_dir / "truth.csv", TRUTH_COLUMNS, buffer_rows=chunk_records)
    tags = (TableWriter(out_dir / "tags.csv", TAG_COLUMNS, buffer_rows=chunk_records)
            if debug else None)
    summary = GenerateSummary(day_files + [truth.path] + ([tags.path] if tags else []),
                              [0] * days, 0, 0, 0, 0,
                              {k: 0 for k in error_kinds()}, {k: 0 for k in error_kinds()},
                              {k: 0 for k in trap_kinds()},
                              {"update_mobile": 0, "update_address": 0})
    try:
        block = 0
        while sum(summary.records_per_day) < records:
            _block(run, block, records - sum(summary.records_per_day), writers, truth, tags,
                   summary)
            block += 1
            log.debug("block %d: %d rows so far", block, sum(summary.records_per_day))
    finally:
        for w in [*writers, truth, *([tags] if tags else [])]:
            w.close()
    summary.seconds = time.perf_counter() - started
    log.info("generated %d rows of %d customers in %.1fs", records, summary.entities,
             summary.seconds)
    return summary


def _block(run: _Run, block: int, room: int, writers: list[TableWriter], truth: TableWriter,
           tags: TableWriter | None, summary: GenerateSummary) -> None:
    rng = np.random.default_rng(np.random.SeedSequence(run.seed, spawn_key=(block,)))
    params, places = run.params, run.places
    is_org = rng.random(ENTITY_BLOCK) < params.org_share
    local = np.zeros(ENTITY_BLOCK, dtype=np.int64)
    p_ent, g_ent = np.flatnonzero(~is_org), np.flatnonzero(is_org)
    local[p_ent], local[g_ent] = np.arange(len(p_ent)), np.arange(len(g_ent))
    people = make_people(rng, len(p_ent), params, places, run.ric_ids)
    orgs = make_orgs(rng, len(g_ent), params, places, run.org_ids)
    rows = plan_rows(rng, is_org, params, run.days)
    if len(rows) > room:
        rows = rows.take(slice(0, room))

    # --- each source record keyed once; updates re-send it -----------------
    base = np.flatnonzero(~rows.update)
    rec_ent, rec_sys = rows.ent[base], rows.system[base]
    rec_org = is_org[rec_ent]
    pr, gr = np.flatnonzero(~rec_org), np.flatnonzero(rec_org)
    pcols, pdirt = key_people(rng, people, local[rec_ent[pr]], rec_sys[pr], params, run.codes,
                              places, run.debug)
    gcols, gdirt = key_orgs(rng, orgs, local[rec_ent[gr]], rec_sys[gr], params, run.codes,
                            places, run.debug)
    cols: dict[str, np.ndarray] = {}
    for c in _VALUE_COLUMNS:
        cols[c] = np.empty(len(base), dtype=object)
        cols[c][pr], cols[c][gr] = pcols[c], gcols[c]
    for dirt in (pdirt, gdirt):
        for kind, count in dirt.applied.items():
            summary.error_counts[kind] += count
            summary.error_eligible[kind] += dirt.eligible[kind]

    # --- order, keys, entity ids ------------------------------------------
    position = np.zeros(int(rows.rec.max()) + 1 if len(rows) else 0, dtype=np.int64)
    position[rows.rec[base]] = np.arange(len(base))
    order = output_order(rng, rows)
    rows = rows.take(order)
    row_rec = position[rows.rec]
    base_rows = np.flatnonzero(~rows.update)
    serial = np.zeros(len(base), dtype=np.int64)
    # Keys are handed out in a shuffled order: a file is not sorted by key.
    serial[row_rec[base_rows]] = run.serial + rng.permutation(len(base_rows))
    run.serial += len(base_rows)
    keys = np.array(source_keys(rec_sys, serial, run.seed), dtype=object)
    entity_id = np.where(
        is_org[rec_ent],
        np.char.add("G", np.char.zfill((run.orgs_before + local[rec_ent] + 1).astype(str), 8)),
        np.char.add("P", np.char.zfill((run.persons_before + local[rec_ent] + 1).astype(str), 8)),
    ).astype(object)
    run.persons_before += len(p_ent)
    run.orgs_before += len(g_ent)

    out = {c: cols[c][row_rec] for c in _VALUE_COLUMNS}
    out["source_system"] = np.array(SOURCE_SYSTEMS, dtype=object)[rec_sys[row_rec]]
    out["source_customer_id"] = keys[row_rec]
    changes = _apply_updates(rng, run, rows, out, is_org, people, orgs, local, summary)
    out["updated_at"] = np.array(updated_at(rng, rows), dtype=object)

    # --- write --------------------------------------------------------------
    bounds = np.searchsorted(rows.day, np.arange(1, run.days + 2))
    for d, writer in enumerate(writers):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if hi > lo:
            writer.write([out[c][lo:hi].tolist() for c in CONTRACT_COLUMNS])
            summary.records_per_day[d] += hi - lo
    truth.write([out["source_system"][base_rows].tolist(), out["source_customer_id"][base_rows]
                 .tolist(), entity_id[row_rec[base_rows]].tolist()])
    summary.source_records += len(base_rows)

    kept = np.unique(rows.ent)
    trap = np.empty(len(kept), dtype=object)
    kept_org = is_org[kept]
    trap[kept_org] = orgs.groups.trap[local[kept[kept_org]]]
    trap[~kept_org] = people.groups.trap[local[kept[~kept_org]]]
    summary.entities += len(kept)
    summary.organisations += int(kept_org.sum())
    summary.persons += int((~kept_org).sum())
    for kind in summary.trap_entities:
        summary.trap_entities[kind] += int((trap == kind).sum())
    if tags is not None:
        rec_trap = np.empty(len(base), dtype=object)
        rec_trap[pr] = people.groups.trap[local[rec_ent[pr]]]
        rec_trap[gr] = orgs.groups.trap[local[rec_ent[gr]]]
        errors: list[list[str]] = [[] for _ in range(len(base))]
        for idx, masks in ((pr, pdirt.masks or {}), (gr, gdirt.masks or {})):
            for kind, mask in masks.items():
                for j in idx[mask].tolist():
                    errors[j].append(kind)
        clean = np.empty(len(base), dtype=object)
        clean[pr] = people.id_number[local[rec_ent[pr]]]
        gl = local[rec_ent[gr]]
        old_code = np.array(["org_code_instead" in errors[j] for j in gr.tolist()], dtype=bool)
        clean[gr] = np.where(old_code, orgs.org_code[gl], orgs.uscc[gl])
        tags.write([
            rows.day.tolist(), out["source_system"].tolist(), out["source_customer_id"].tolist(),
            entity_id[row_rec].tolist(), rows.update.astype(np.int64).tolist(),
            rec_trap[row_rec].tolist(),
            [change if change else ";".join(errors[j])
             for j, change in zip(row_rec.tolist(), changes.tolist(), strict=True)],
            clean[row_rec].tolist(),
        ])


def _apply_updates(rng: np.random.Generator, run: _Run, rows: Rows, out: dict[str, np.ndarray],
                   is_org: np.ndarray, people: People, orgs: Orgs, local: np.ndarray,
                   summary: GenerateSummary) -> np.ndarray:
    """Updates re-send their record with a new mobile or a new address.
    Returns, per row, what the update changed ("" for records)."""
    changes = np.full(len(rows), "", dtype=object)
    up = np.flatnonzero(rows.update)
    address = rng.random(len(up)) < run.params.update_address_share
    mobiles = mobile_numbers(rng, len(up)).tolist()
    for i, j in enumerate(up[~address].tolist()):
        out["mobile"][j] = str(mobiles[i])
    moved = up[address]
    changes[up[~address]] = "update_mobile"
    changes[moved] = "update_address"
    summary.update_counts["update_mobile"] += int((~address).sum())
    summary.update_counts["update_address"] += len(moved)
    for org in (False, True):
        sel = moved[is_org[rows.ent[moved]] == org]
        if not sel.size:
            continue
        now = (orgs.district if org else people.district)[local[rows.ent[sel]]]
        new_district = moved_districts(rng, run.places, now)
        streets = make_streets(rng, len(sel), office=org)
        for k, j in enumerate(sel.tolist()):
            out["address"][j] = address_text(run.places, int(new_district[k]),
                                             str(streets.street[k]), str(streets.tail[k]))
    return changes
