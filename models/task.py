"""Review tasks (疑似客户复核): a group of suspect customers, its members, comments
and claim; steward changes waiting for approval (maker-checker, 审核)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.vocabulary import RequestStatus, TaskStatus
from models.base import Base, JSONDocument, utcnow

if TYPE_CHECKING:
    from models.source_record import SourceRecord

__all__ = ["ReviewTask", "TaskMember", "TaskComment", "ChangeRequest"]


class ReviewTask(Base):
    __tablename__ = "review_task"
    __repr_fields__ = ("task_type", "status", "locked_by")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_type: Mapped[str] = mapped_column(String(24))  # a matching.vocabulary.TaskType
    status: Mapped[str] = mapped_column(String(12), default=TaskStatus.OPEN, index=True)
    customer_type: Mapped[str] = mapped_column(String(1))
    max_score: Mapped[float | None]
    created_run: Mapped[int | None] = mapped_column(Integer)
    updated_run: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(80))
    close_reason: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(80))  # the steward who claimed it
    locked_at: Mapped[datetime | None]

    members: Mapped[list[TaskMember]] = relationship(back_populates="task",
                                                     order_by="TaskMember.record_id")
    comments: Mapped[list[TaskComment]] = relationship(order_by="TaskComment.id")


class TaskMember(Base):
    __tablename__ = "task_member"
    __repr_fields__ = ("customer_no",)

    task_id: Mapped[int] = mapped_column(ForeignKey("review_task.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True,
                                           index=True)
    customer_no: Mapped[str] = mapped_column(String(20))  # when the task was opened/refreshed

    task: Mapped[ReviewTask] = relationship(back_populates="members")
    record: Mapped[SourceRecord] = relationship()


class TaskComment(Base):
    __tablename__ = "task_comment"
    __repr_fields__ = ("task_id", "author")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_task.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeRequest(Base):
    """A steward's merge, split, rollback (…) waiting for an approver. ``payload``
    holds what to do; ``fingerprint`` the state it was asked on, so that an
    approval of a stale request is refused; ``result`` what applying it did."""

    __tablename__ = "change_request"
    __repr_fields__ = ("action", "status", "requested_by", "decided_by")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(20))  # a matching.vocabulary.StewardAction
    status: Mapped[str] = mapped_column(String(12), default=RequestStatus.PENDING, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
