"""Review tasks (疑似客户复核): a group of suspect customers, its members, comments and lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

__all__ = ["ReviewTask", "TaskMember", "TaskComment", "OPEN", "CLOSED", "TASK_TYPES"]

OPEN, CLOSED = "open", "closed"
TASK_TYPES = ("person_suspect", "org_suspect_group", "identity_change")


class ReviewTask(Base):
    __tablename__ = "review_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_type: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default=OPEN, index=True)
    customer_type: Mapped[str] = mapped_column(String(1))
    max_score: Mapped[float | None]
    created_run: Mapped[int | None] = mapped_column(Integer)
    updated_run: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(80))
    close_reason: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_at: Mapped[datetime | None]


class TaskMember(Base):
    __tablename__ = "task_member"

    task_id: Mapped[int] = mapped_column(ForeignKey("review_task.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True,
                                           index=True)
    customer_no: Mapped[str] = mapped_column(String(20))  # when the task was opened/refreshed


class TaskComment(Base):
    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_task.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
