"""Trained models belong to their store: every version a row, with what it was
trained on. One version per customer type is active (the batch and the API
score with it); ``pinned`` keeps it active when a newer one is trained."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONDocument, utcnow

__all__ = ["TrainedModelVersion"]


class TrainedModelVersion(Base):
    __tablename__ = "trained_model"
    __repr_fields__ = ("customer_type", "version", "active", "pinned")
    __table_args__ = (UniqueConstraint("customer_type", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_type: Mapped[str] = mapped_column(String(1))
    version: Mapped[str] = mapped_column(String(40))
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    records: Mapped[int] = mapped_column(Integer)  # records trained on
    #: what the training saw: labelled pairs, blocking counts, where it came from
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    body: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # the model (ECIF + Splink)
    active: Mapped[bool] = mapped_column(default=False)
    pinned: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(80))
