"""Customers (the golden record), their history, and the account relation
table (客户帐户关系表): which source record belongs to which customer.

A customer number never changes hands: a merged-away customer stays as a
tombstone (status ``merged``, ``merged_into`` the survivor) so that old
numbers still resolve. Numbers come from the ``counter`` row ``customer_no``,
moved inside the transaction that uses them (a rolled-back transaction
gives its numbers back, so a re-run after a crash allocates the same ones).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.vocabulary import CustomerStatus
from models.base import Base, JSONDocument, PartyFields, utcnow

if TYPE_CHECKING:
    from models.source_record import SourceRecord

__all__ = ["Customer", "CustomerHistory", "Link", "Counter", "GOLDEN_FIELDS"]

#: The golden record's basic and contact fields (survivorship, config/survivorship.yaml).
GOLDEN_FIELDS: tuple[str, ...] = (
    "name", "gender", "birth_date", "id_type", "id_number", "mobile", "email", "phone",
    "address", "legal_rep",
)


class Customer(PartyFields, Base):
    __tablename__ = "customer"
    __repr_fields__ = ("customer_type", "status", "merged_into", "records")

    customer_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer_type: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(12), default=CustomerStatus.ACTIVE, index=True)
    merged_into: Mapped[str | None] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    records: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_run: Mapped[int | None] = mapped_column(Integer)
    updated_run: Mapped[int | None] = mapped_column(Integer)

    links: Mapped[list[Link]] = relationship(back_populates="customer",
                                             order_by="Link.record_id")
    history: Mapped[list[CustomerHistory]] = relationship(
        back_populates="customer", order_by="CustomerHistory.version")


class CustomerHistory(Base):
    """Every version of a golden record's basic and contact fields (客户信息回溯)."""

    __tablename__ = "customer_history"
    __repr_fields__ = ("customer_no", "version")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_no: Mapped[str] = mapped_column(ForeignKey("customer.customer_no"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # GOLDEN_FIELDS

    customer: Mapped[Customer] = relationship(back_populates="history")


class Link(Base):
    """Source record -> customer. ``identity_key`` is the record's identity when it
    was linked: an update that changes it re-opens the question."""

    __tablename__ = "link"
    __repr_fields__ = ("customer_no", "link_type", "rule")

    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True)
    customer_no: Mapped[str] = mapped_column(ForeignKey("customer.customer_no"), index=True)
    link_type: Mapped[str] = mapped_column(String(12))  # a matching.vocabulary.LinkType
    rule: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))
    identity_key: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int | None] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="links")
    record: Mapped[SourceRecord] = relationship(back_populates="link")


class Counter(Base):
    """Named counters moved inside the transaction that uses them."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
