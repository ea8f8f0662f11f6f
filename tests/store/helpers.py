"""Building blocks for store tests: source files, store reads, batch runs."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ecif.batch import BatchSummary, run_batch
from ecif.bulk import read_frame
from matching.config import DEFAULT_CONFIG_DIR
from matching.engine.config import load_engine_config
from matching.standardise.columns import INPUT_COLUMNS


def person(system: str, cid: str, name: str, id_number: str = "", *, birth: str = "",
           mobile: str = "", updated: str = "2026-11-01T10:00:00+08:00",
           **extra: str) -> dict[str, str]:
    gender = {"CORE": "1", "UW": "M", "CLAIM": "男", "TELE": "1", "FIN": "M", "WEB": "male"}
    id_type = {"CORE": "0", "UW": "01", "CLAIM": "身份证", "TELE": "I", "FIN": "01",
               "WEB": "ID_CARD"}
    row = {"source_system": system, "source_customer_id": cid, "customer_type": "P",
           "name": name, "gender": gender[system], "birth_date": birth,
           "id_type": id_type[system] if id_number else "", "id_number": id_number,
           "mobile": mobile, "updated_at": updated}
    row.update(extra)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(INPUT_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in INPUT_COLUMNS})
    return path


def use_models(engine: Engine, models: Path) -> None:
    """Give a store the models trained once on the sample (if it has none yet), so
    that its first batch need not train."""
    from ecif.services.base import BATCH, unit_of_work
    from ecif.services.model_registry import active_models, import_file
    from matching.engine.model import model_path

    with engine.connect() as conn:
        have = set(active_models(conn))
    with unit_of_work(engine) as conn:
        for ctype in ("P", "G"):
            if ctype not in have:
                import_file(conn, model_path(models, ctype), actor=BATCH)


def batch(engine: Engine, models: Path) -> BatchSummary:
    use_models(engine, models)
    config = replace(load_engine_config(), model_dir=models)
    return run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR, workers=1)


def decide(engine_or_conn: object, judgement: str, left: str, right: str,
           by: str = "steward1", **kwargs: object) -> int:
    """A steward decision made through the decisions service (on a connection in a
    transaction)."""
    from ecif.services.base import Actor
    from ecif.services.decisions import make_decision
    from matching.vocabulary import Role

    return make_decision(engine_or_conn, judgement, left, right,  # type: ignore[arg-type]
                         actor=Actor(by, Role.STEWARD), **kwargs)  # type: ignore[arg-type]


def links(engine: Engine) -> dict[str, str]:
    """record key -> customer number."""
    with engine.connect() as conn:
        frame = read_frame(conn, "SELECT s.record_key, l.customer_no FROM source_record s "
                                 "JOIN link l ON l.record_id = s.id")
    return dict(zip(frame["record_key"], frame["customer_no"], strict=True))


def query(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, sql, params)


def rid(first17: str) -> str:
    """A GB 11643-valid resident ID from its first 17 digits."""
    from stdnum.cn import ric

    return first17 + ric.calc_check_digit(first17 + "0")  # it ignores the last digit


def org(system: str, cid: str, name: str, *, phone: str = "", code: str = "",
        updated: str = "2026-11-01T10:00:00+08:00") -> dict[str, str]:
    id_type = {"CORE": "7", "UW": "52", "CLAIM": "组织机构代码", "TELE": "O", "FIN": "52",
               "WEB": "ORG_CODE"}
    return {"source_system": system, "source_customer_id": cid, "customer_type": "G",
            "name": name, "id_type": id_type[system] if code else "", "id_number": code,
            "phone": phone, "updated_at": updated}
