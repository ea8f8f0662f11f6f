"""Merge events (every merge, split, force-merge and rollback, with the
membership before and after, so any of them can be undone) and the change
feed downstream systems follow (回写)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

__all__ = ["MergeEvent", "CustomerChange", "EVENT_TYPES", "CHANGE_TYPES"]

EVENT_TYPES = ("merge", "split", "force_merge", "rollback", "relink")
#: merged_into: customer_no is now a tombstone pointing at related_customer_no;
#: split_from: customer_no was created from records of related_customer_no.
CHANGE_TYPES = ("merged_into", "split_from")


class MergeEvent(Base):
    __tablename__ = "merge_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(12))
    customer_no: Mapped[str] = mapped_column(String(20), index=True)  # the survivor / result
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[str] = mapped_column(Text)  # JSON {customer_no: [record_key, ...]}
    after: Mapped[str] = mapped_column(Text)   # JSON {customer_no: [record_key, ...]}
    rule: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(80), default="batch")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_by: Mapped[int | None] = mapped_column(Integer)


class CustomerChange(Base):
    __tablename__ = "customer_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    change_type: Mapped[str] = mapped_column(String(12))
    customer_no: Mapped[str] = mapped_column(String(20))
    related_customer_no: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer)
