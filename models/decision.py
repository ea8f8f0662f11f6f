"""Steward judgements, append-only (nomenklatura's shape): a change soft-deletes
the old row (``deleted_at``) and inserts a new one; rows are never updated
otherwise. Every batch obeys the live ones.

``scope`` ``record``: left/right are record keys ("SYS:ID"); ``customer``:
customer numbers, expanded to their records when a batch runs. ``event_id``
names the merge event a decision came with (a steward's merge, split or
rollback), so that undoing the event withdraws its decisions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matching.vocabulary import DecisionScope
from models.base import Base, utcnow

__all__ = ["Decision"]


class Decision(Base):
    __tablename__ = "decision"
    __repr_fields__ = ("judgement", "left_key", "right_key", "created_by", "deleted_at")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    judgement: Mapped[str] = mapped_column(String(12))  # a matching.vocabulary.Judgement
    scope: Mapped[str] = mapped_column(String(10), default=DecisionScope.RECORD)
    left_key: Mapped[str] = mapped_column(String(200), index=True)
    right_key: Mapped[str] = mapped_column(String(200), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    request_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(String(80))
    superseded_by: Mapped[int | None] = mapped_column(Integer)
