"""Declarative base, naming convention and shared column helpers.

Times are stored as naive UTC (`utcnow()`): SQLite keeps no time zone and
the two databases must hold the same values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import Dialect, MetaData, String, Text, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "utcnow", "NAMING_CONVENTION", "PartyFields", "JSONDocument"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (how every time is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class JSONDocument(TypeDecorator[Any]):
    """A JSON document stored as TEXT on both databases.

    The ORM and Core statements take and return Python objects (dicts, lists).
    TEXT rather than PostgreSQL's ``json``: the bulk paths (``ecif.bulk``) move
    millions of rows at the driver level, where the same text on both databases
    keeps them simple, and ingest compares raw rows as text. An already-encoded
    JSON text is accepted as it is (after checking that it parses).
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            json.loads(value)  # raises on a string that is not JSON text
            return value
        return json.dumps(value, ensure_ascii=False, default=str)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not isinstance(value, str):
            return value
        return json.loads(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    #: attributes shown by repr() after the primary key
    __repr_fields__: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        state = inspect(self)
        names = [c.key for c in state.mapper.primary_key] + list(self.__repr_fields__)
        loaded = state.dict  # never trigger a load (or a DetachedInstanceError) from repr
        shown = " ".join(f"{n}={loaded[n]!r}" for n in names if n in loaded)
        return f"<{type(self).__name__} {shown}>"


class PartyFields:
    """Basic and contact fields, standardised, that a source record carries and a
    golden record keeps (one definition for both tables)."""

    name: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    id_type: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    legal_rep: Mapped[str | None] = mapped_column(Text)
