"""Source records: what the six systems sent, as keyed and as standardised.

One row per (source_system, source_customer_id), the newest version; older
versions move to ``source_record_version``. ``record_key`` ("SYS:ID") is the
engine's ``unique_id``. ``ingest_id`` is the ingest run that last changed the
row: the batch works on rows changed since its previous watermark.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.vocabulary import IngestStatus
from models.base import Base, JSONDocument, PartyFields, utcnow

if TYPE_CHECKING:
    from models.customer import Link

__all__ = ["SourceRecord", "SourceRecordVersion", "IngestRun", "ExceptionRow",
           "SourceWatermark", "STD_FIELDS"]

#: Standardised fields kept per record (matching.standardise OUTPUT_COLUMNS
#: minus the key, type and updated_at, which are columns of their own).
STD_FIELDS: tuple[str, ...] = (
    "name", "gender", "birth_date", "id_type", "id_number", "mobile", "email", "issues",
    "name_plain", "surname", "given_name", "name_pinyin", "id_cleaned", "id_valid", "id_raw",
    "phone", "address", "province", "city", "district", "address_detail",
    "org_core", "org_region", "org_legal_form", "org_branch", "uscc", "org_code",
    "legal_rep", "legal_rep_pinyin",
)


class IngestRun(Base):
    """One `ecif ingest` (or database pull): its files and counts."""

    __tablename__ = "ingest_run"
    __repr_fields__ = ("status", "source")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(Text)  # file names or the pulled URL/table
    status: Mapped[str] = mapped_column(String(16), default=IngestStatus.RUNNING)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)


class SourceRecord(PartyFields, Base):
    __tablename__ = "source_record"
    __repr_fields__ = ("record_key", "customer_type", "name", "version")
    __table_args__ = (
        UniqueConstraint("source_system", "source_customer_id"),
        Index("ix_source_record_id_cleaned", "id_cleaned"),
        Index("ix_source_record_mobile", "mobile"),
        Index("ix_source_record_name", "name"),  # the stewards' search by name prefix
        Index("ix_source_record_org_code", "org_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(String(200), unique=True)
    source_system: Mapped[str] = mapped_column(String(40))
    source_customer_id: Mapped[str] = mapped_column(String(150))
    customer_type: Mapped[str] = mapped_column(String(1))
    updated_at: Mapped[str | None] = mapped_column(String(40))  # ISO 8601 as standardised
    # its UTC instant, YYYY-MM-DDTHH:MM:SS.ffffff ('' when missing): versions order by it
    updated_key: Mapped[str] = mapped_column(String(26), default="", server_default="")
    raw: Mapped[dict[str, str]] = mapped_column(JSONDocument)  # the row as received
    version: Mapped[int] = mapped_column(Integer, default=1)
    ingest_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id"), index=True)
    std_version: Mapped[str] = mapped_column(String(16))  # code maps the fields were made with
    identity_key: Mapped[str] = mapped_column(String(16))  # hash of the identity fields
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    issues: Mapped[str | None] = mapped_column(Text)
    name_plain: Mapped[str | None] = mapped_column(Text)
    surname: Mapped[str | None] = mapped_column(Text)
    given_name: Mapped[str | None] = mapped_column(Text)
    name_pinyin: Mapped[str | None] = mapped_column(Text)
    id_cleaned: Mapped[str | None] = mapped_column(String(64))
    id_valid: Mapped[str | None] = mapped_column(String(1))
    id_raw: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    address_detail: Mapped[str | None] = mapped_column(Text)
    org_core: Mapped[str | None] = mapped_column(Text)
    org_region: Mapped[str | None] = mapped_column(Text)
    org_legal_form: Mapped[str | None] = mapped_column(Text)
    org_branch: Mapped[str | None] = mapped_column(Text)
    uscc: Mapped[str | None] = mapped_column(String(18))
    org_code: Mapped[str | None] = mapped_column(String(9))
    legal_rep_pinyin: Mapped[str | None] = mapped_column(Text)

    link: Mapped[Link | None] = relationship(back_populates="record")
    versions: Mapped[list[SourceRecordVersion]] = relationship(
        back_populates="record", order_by="SourceRecordVersion.version")


class SourceRecordVersion(Base):
    """An earlier version of a source record, kept when a newer one replaced it."""

    __tablename__ = "source_record_version"
    __repr_fields__ = ("record_id", "version", "updated_at")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[str | None] = mapped_column(String(40))
    raw: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    ingest_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id"))
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[SourceRecord] = relationship(back_populates="versions")


class ExceptionRow(Base):
    """A row that failed admission (准入校验): kept whole, with its reasons."""

    __tablename__ = "exception_row"
    __repr_fields__ = ("source_file", "row_number", "reasons")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ingest_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id"), index=True)
    source_file: Mapped[str] = mapped_column(Text)
    row_number: Mapped[int | None] = mapped_column(Integer)  # 1-based data row in the file
    line_number: Mapped[int | None] = mapped_column(Integer)  # where the row starts, if known
    source_system: Mapped[str | None] = mapped_column(String(40))
    source_customer_id: Mapped[str | None] = mapped_column(String(150))
    reasons: Mapped[str] = mapped_column(Text)  # ";"-separated issue codes
    raw: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceWatermark(Base):
    """Incremental extraction (按时间戳增量抽取): the newest updated_at pulled per source."""

    __tablename__ = "source_watermark"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    updated_at: Mapped[str] = mapped_column(String(40))
    pulled_at: Mapped[datetime] = mapped_column(default=utcnow)
