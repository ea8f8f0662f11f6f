"""Batch runs (the system status table, 系统状态表) and what a run's match stage
planned, so that later stages (and a re-run after a crash) read it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matching.vocabulary import BatchStage, RunStatus
from models.base import Base, JSONDocument, utcnow

__all__ = ["BatchRun", "PlannedLink", "PlannedTask", "MatchPair", "STAGES"]

#: The nightly batch, stage by stage; each commits with its data.
STAGES: tuple[BatchStage, ...] = tuple(BatchStage)


class BatchRun(Base):
    __tablename__ = "batch_run"
    __repr_fields__ = ("status", "stage", "watermark_from", "watermark_to")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=RunStatus.RUNNING, index=True)
    stage: Mapped[str | None] = mapped_column(String(16))  # the last stage completed
    watermark_from: Mapped[int] = mapped_column(Integer)  # ingest ids (from, to]
    watermark_to: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    timings: Mapped[dict[str, float]] = mapped_column(JSONDocument, default=dict)  # s per stage
    model_versions: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)


class PlannedLink(Base):
    """The match stage's outcome for a record whose customer may change."""

    __tablename__ = "planned_link"

    run_id: Mapped[int] = mapped_column(ForeignKey("batch_run.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(200))  # smallest record key of the cluster
    link_type: Mapped[str] = mapped_column(String(12))
    rule: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))


class PlannedTask(Base):
    __tablename__ = "planned_task"

    run_id: Mapped[int] = mapped_column(ForeignKey("batch_run.id"), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(210), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_type: Mapped[str] = mapped_column(String(24))


class MatchPair(Base):
    """A scored or rule pair kept for the "why": probability, weight, per-comparison
    weights (JSON), the rule or tier that used it."""

    __tablename__ = "match_pair"
    __repr_fields__ = ("left_key", "right_key", "match_probability", "decision")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    left_key: Mapped[str] = mapped_column(String(200), index=True)
    right_key: Mapped[str] = mapped_column(String(200), index=True)
    customer_type: Mapped[str] = mapped_column(String(1))
    match_probability: Mapped[float | None] = mapped_column(Float)
    match_weight: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(12))  # a matching.vocabulary.PairDecision
    rule: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))
    explanation: Mapped[dict[str, float] | None] = mapped_column(JSONDocument)  # {comparison: w}
