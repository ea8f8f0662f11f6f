"""Users and roles, API keys (only hashes stored) and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONDocument, utcnow

__all__ = ["User", "ApiKey", "AuditLog"]


class User(Base):
    __tablename__ = "app_user"
    __repr_fields__ = ("username", "role", "active")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12))  # a matching.vocabulary.Role
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    password_changed_at: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_key"
    __repr_fields__ = ("name", "prefix", "scopes", "revoked_at")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12), index=True)  # shown, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    #: space-separated matching.vocabulary.ApiScope values
    scopes: Mapped[str] = mapped_column(String(100), default="match register read pii")
    rate_limit: Mapped[int | None] = mapped_column(Integer)  # requests per minute; None: default
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditLog(Base):
    """Who did what, when, to which object, with the state before and after."""

    __tablename__ = "audit_log"
    __repr_fields__ = ("at", "actor", "action", "object_type", "object_id")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    after: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
