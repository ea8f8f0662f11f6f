"""What the real-time API reads besides the records, kept in step by the batch
(and by a registration through the API):

- ``block_key``: per record, one hashed key per candidate blocking rule of the
  engine (:data:`matching.engine.settings.PERSON_BLOCKING`, ...), so that the
  candidates of a new record are indexed look-ups, not a scan;
- ``term_frequency``: how often each value of a term-frequency-adjusted column
  occurs among the records of a customer type, as Splink counted it in the
  last batch (values held by one record only are not stored: their count is 1;
  the row with value '' holds the column's non-null total).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

__all__ = ["BlockKey", "TermFrequency"]


class BlockKey(Base):
    __tablename__ = "block_key"
    __table_args__ = (Index("ix_block_key_key", "key"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class TermFrequency(Base):
    __tablename__ = "term_frequency"

    customer_type: Mapped[str] = mapped_column(String(1), primary_key=True)
    tf_column: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
