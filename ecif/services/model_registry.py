"""Trained models belong to their store: each version is a row of
``trained_model`` with what it was trained on, one version per customer type
is active, and the batch and the match-check API score with the active one. A
store without a model trains on its own records; it never picks up another
store's (``ecif model import`` moves one deliberately).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from ecif.bulk import read_frame
from ecif.services.audit import audit
from ecif.services.base import Actor
from matching.engine.model import TrainedModel, load_model, model_from_json
from matching.exceptions import NotFound
from models.base import utcnow
from models.trained_model import TrainedModelVersion

__all__ = ["active_models", "save_version", "list_versions", "use_version", "import_file",
           "SaveResult"]


class SaveResult:
    def __init__(self, version: str, activated: bool, kept: str | None) -> None:
        self.version = version
        self.activated = activated
        self.kept = kept  # the pinned version that stays active instead, if any


def active_models(conn: Connection) -> dict[str, TrainedModel]:
    """The active model of each customer type that has one."""
    rows = conn.execute(select(TrainedModelVersion.customer_type, TrainedModelVersion.body)
                        .where(TrainedModelVersion.active.is_(True))).all()
    return {r.customer_type: model_from_json(r.body, f"stored {r.customer_type} model")
            for r in rows}


def save_version(conn: Connection, model: TrainedModel, *, actor: Actor,
                 counts: dict[str, Any] | None = None, activate: bool = True) -> SaveResult:
    """Store a trained model as a version of this store (the same parameters again
    are the same version) and make it the active one, unless another version of
    its type is pinned."""
    ctype = model.customer_type
    existing = conn.execute(select(TrainedModelVersion.id).where(
        TrainedModelVersion.customer_type == ctype,
        TrainedModelVersion.version == model.version)).scalar()
    if existing is None:
        conn.execute(insert(TrainedModelVersion).values(
            customer_type=ctype, version=model.version, trained_at=utcnow(),
            records=model.records, counts=counts or {}, body=model.as_json(),
            active=False, pinned=False, created_by=actor.name))
    pinned = conn.execute(select(TrainedModelVersion.version).where(
        TrainedModelVersion.customer_type == ctype, TrainedModelVersion.pinned.is_(True),
        TrainedModelVersion.version != model.version)).scalar()
    activated = activate and pinned is None
    if activated:
        _activate(conn, ctype, model.version, pin=False)
    audit(conn, actor, "model_saved", "trained_model", model.version,
          after={"customer_type": ctype, "records": model.records, "activated": activated},
          counts=counts, kept_pinned=pinned)
    return SaveResult(model.version, activated, pinned)


def _activate(conn: Connection, ctype: str, version: str, *, pin: bool) -> None:
    conn.execute(update(TrainedModelVersion).where(TrainedModelVersion.customer_type == ctype)
                 .values(active=False, pinned=False))
    conn.execute(update(TrainedModelVersion).where(
        TrainedModelVersion.customer_type == ctype, TrainedModelVersion.version == version)
        .values(active=True, pinned=pin))


def list_versions(conn: Connection) -> pd.DataFrame:
    """Every stored version, newest first: customer_type, version, trained_at,
    records, counts, active, pinned, created_by."""
    return read_frame(conn, select(
        TrainedModelVersion.customer_type, TrainedModelVersion.version,
        TrainedModelVersion.trained_at, TrainedModelVersion.records,
        TrainedModelVersion.counts, TrainedModelVersion.active, TrainedModelVersion.pinned,
        TrainedModelVersion.created_by,
    ).order_by(TrainedModelVersion.trained_at.desc(), TrainedModelVersion.id.desc()))


def use_version(conn: Connection, version: str, *, actor: Actor) -> str:
    """Pin ``version``: it is active for its type until another is pinned (a newer
    training does not replace it). Returns its customer type."""
    row = conn.execute(select(TrainedModelVersion.customer_type, TrainedModelVersion.active)
                       .where(TrainedModelVersion.version == version)).first()
    if row is None:
        known = ", ".join(conn.execute(select(TrainedModelVersion.version)).scalars()) or "none"
        raise NotFound(f"model version {version!r} is not in this store (stored: {known})")
    before = conn.execute(select(TrainedModelVersion.version).where(
        TrainedModelVersion.customer_type == row.customer_type,
        TrainedModelVersion.active.is_(True))).scalar()
    _activate(conn, row.customer_type, version, pin=True)
    audit(conn, actor, "model_pinned", "trained_model", version,
          before={"active_version": before}, after={"active_version": version, "pinned": True})
    return str(row.customer_type)


def import_file(conn: Connection, path: Path, *, actor: Actor,
                activate: bool = True) -> SaveResult:
    """Store a model file (``ecif train FILE...`` writes them) as a version."""
    model = load_model(path)
    return save_version(conn, model, actor=actor, activate=activate,
                        counts={"imported_from": str(path)})
