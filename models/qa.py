"""QA samples (质量抽检): a stratified random sample of the pairs the machine
merged and left apart, per probability band, each pair a QA review task whose
answer is a steward decision. ``ecif qa report`` estimates precision (and
recall) per band from the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONDocument, utcnow

__all__ = ["QASample", "QAPair"]


class QASample(Base):
    __tablename__ = "qa_sample"
    __repr_fields__ = ("per_band", "seed", "created_by")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    per_band: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    #: per stratum (customer type, merged or apart, band): pairs in the population
    strata: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    model_versions: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)


class QAPair(Base):
    __tablename__ = "qa_pair"
    __repr_fields__ = ("left_key", "right_key", "stratum", "task_id")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("qa_sample.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(40))
    customer_type: Mapped[str] = mapped_column(String(1))
    merged: Mapped[bool] = mapped_column(Boolean)
    left_key: Mapped[str] = mapped_column(String(200), index=True)
    right_key: Mapped[str] = mapped_column(String(200))
    match_probability: Mapped[float] = mapped_column(Float)
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
