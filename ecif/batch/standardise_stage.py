"""Stage 1: re-standardise records in scope whose fields were made with other
code maps (an operator edited config/codes.yaml since they were ingested)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import text

from ecif.batch.context import BatchContext, fault_point
from ecif.bulk import read_frame, table_of, update_rows
from ecif.ingest import identity_keys, std_version
from matching.config import load_code_maps
from matching.standardise.batch import standardise_frame
from matching.standardise.columns import INPUT_COLUMNS
from matching.vocabulary import BatchStage
from models.source_record import STD_FIELDS, SourceRecord

__all__ = ["standardise_stage"]

_CHUNK = 50_000


def standardise_stage(ctx: BatchContext) -> dict[str, Any]:
    fault_point(BatchStage.STANDARDISE, "start")
    version = std_version(ctx.config_dir)
    codes = load_code_maps(ctx.config_dir)
    redone = kept = 0
    last = 0
    while True:
        with ctx.engine.begin() as conn:
            chunk = read_frame(conn, (
                f"SELECT id, raw FROM source_record WHERE {ctx.in_scope()} "
                "AND std_version <> :v AND id > :last ORDER BY id LIMIT :n"),
                {"v": version, "last": last, "n": _CHUNK})
            if chunk.empty:
                break
            last = int(chunk["id"].max())
            raw = pd.DataFrame([json.loads(r) for r in chunk["raw"]]).reindex(
                columns=list(INPUT_COLUMNS), fill_value="").fillna("")
            raw["_id"] = chunk["id"].astype(str).to_numpy()
            result = standardise_frame(raw, codes)
            kept += len(result.rejected)  # no longer admissible: keep the old fields
            ok = result.admitted
            if len(ok):
                ok_ids = raw.loc[~raw["_id"].isin(set(result.rejected.get("_id", []))), "_id"]
                fields = ok[list(STD_FIELDS)].copy()
                fields["identity_key"] = identity_keys(ok).to_numpy()
                fields["std_version"] = version
                fields["_key"] = ok_ids.astype(int).to_numpy()
                update_rows(conn, table_of(SourceRecord), "id", fields)
                redone += len(ok)
            conn.execute(text("UPDATE source_record SET std_version = :v WHERE id IN ("
                              + ",".join(str(int(i)) for i in chunk["id"]) + ")"),
                         {"v": version})
    counts = {"restandardised": redone, "no_longer_admissible": kept}
    with ctx.engine.begin() as conn:
        ctx.complete(conn, BatchStage.STANDARDISE, counts)
    return counts
