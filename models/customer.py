"""Customers (the golden record), their history, and the account relation
table (客户帐户关系表): which source record belongs to which customer.

A customer number never changes hands: a merged-away customer stays as a
tombstone (status ``merged``, ``merged_into`` the survivor) so that old
numbers still resolve.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, PartyFields, utcnow

__all__ = ["Customer", "CustomerHistory", "Link", "GOLDEN_FIELDS", "ACTIVE", "MERGED",
           "DEACTIVATED", "LINK_TYPES"]

ACTIVE, MERGED, DEACTIVATED = "active", "merged", "deactivated"
#: How a record came to its customer.
LINK_TYPES = ("new", "auto_rule", "auto_model", "manual")

#: The golden record's basic and contact fields (survivorship, config/survivorship.yaml).
GOLDEN_FIELDS: tuple[str, ...] = (
    "name", "gender", "birth_date", "id_type", "id_number", "mobile", "email", "phone",
    "address", "legal_rep",
)


class Customer(PartyFields, Base):
    __tablename__ = "customer"

    customer_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer_type: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE, index=True)
    merged_into: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    records: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_run: Mapped[int | None] = mapped_column(Integer)
    updated_run: Mapped[int | None] = mapped_column(Integer)


class CustomerHistory(Base):
    """Every version of a golden record's basic and contact fields (客户信息回溯)."""

    __tablename__ = "customer_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_no: Mapped[str] = mapped_column(ForeignKey("customer.customer_no"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[str] = mapped_column(Text)  # JSON of GOLDEN_FIELDS


class Link(Base):
    """Source record -> customer. ``identity_key`` is the record's identity when it
    was linked: an update that changes it re-opens the question."""

    __tablename__ = "link"

    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True)
    customer_no: Mapped[str] = mapped_column(ForeignKey("customer.customer_no"), index=True)
    link_type: Mapped[str] = mapped_column(String(12))
    rule: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))
    identity_key: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int | None] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(default=utcnow)
