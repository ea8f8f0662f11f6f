"""Merge events (every merge, split, force-merge and rollback, with the
membership before and after, so any of them can be undone), the records each
moved, and the change feed downstream systems follow (回写)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.vocabulary import BATCH_ACTOR
from models.base import Base, JSONDocument, utcnow

__all__ = ["MergeEvent", "EventMove", "CustomerChange"]


class MergeEvent(Base):
    __tablename__ = "merge_event"
    __repr_fields__ = ("event_type", "customer_no", "created_by", "undone_by")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(12))  # a matching.vocabulary.EventType
    customer_no: Mapped[str] = mapped_column(String(20), index=True)  # the survivor / result
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, list[str]]] = mapped_column(JSONDocument)  # {no: [record key]}
    after: Mapped[dict[str, list[str]]] = mapped_column(JSONDocument)   # {no: [record key]}
    rule: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(80), default=BATCH_ACTOR)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_by: Mapped[int | None] = mapped_column(Integer)
    undoes: Mapped[int | None] = mapped_column(Integer)  # a rollback: the event it undid

    moves: Mapped[list[EventMove]] = relationship(back_populates="event",
                                                  order_by="EventMove.record_id")


class EventMove(Base):
    """A record an event moved: from one customer (None: a new record) to another."""

    __tablename__ = "event_move"
    __repr_fields__ = ("event_id", "record_id", "from_customer_no", "to_customer_no")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("merge_event.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), index=True)
    from_customer_no: Mapped[str | None] = mapped_column(String(20), index=True)
    to_customer_no: Mapped[str] = mapped_column(String(20), index=True)

    event: Mapped[MergeEvent] = relationship(back_populates="moves")


class CustomerChange(Base):
    __tablename__ = "customer_change"
    __repr_fields__ = ("change_type", "customer_no", "related_customer_no")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    change_type: Mapped[str] = mapped_column(String(12))  # a matching.vocabulary.ChangeType
    customer_no: Mapped[str] = mapped_column(String(20))
    related_customer_no: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer)
