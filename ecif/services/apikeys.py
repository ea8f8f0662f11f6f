"""Integrators' API keys (接口用户): made once, shown once, stored as a SHA-256
hash of the key (a 256-bit random secret needs no slow hash), told apart by
a prefix; scopes limit what a key may do (:class:`ApiScope`: ``match``,
``register``, ``read``, ``pii``); revocation takes effect at the next call."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, insert, or_, select, update

from ecif import rowsql
from ecif.bulk import read_frame
from ecif.services.audit import audit
from ecif.services.base import Actor
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import ApiScope
from models.auth import ApiKey
from models.base import utcnow

__all__ = ["KeyInfo", "NewKey", "create_key", "list_keys", "revoke_key", "authenticate",
           "parse_scopes", "ALL_SCOPES", "key_rate_limit"]

ALL_SCOPES = tuple(s.value for s in ApiScope)
_PREFIX = "ecif_"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    rate_limit: int | None

    def has(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class NewKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    key: str  # the secret: shown once, never stored


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """``match,register`` (commas or spaces) -> scopes; BadInput naming an unknown one."""
    if text is None or not text.strip():
        return ALL_SCOPES
    scopes = [s for s in text.replace(",", " ").split() if s]
    bad = [s for s in scopes if s not in ALL_SCOPES]
    if bad:
        raise BadInput(f"unknown scope {', '.join(bad)}; expected some of "
                       f"{', '.join(ALL_SCOPES)}", fields={"scope": "unknown scope"})
    return tuple(s for s in ALL_SCOPES if s in scopes)


def create_key(conn: Connection, name: str, *, scopes: tuple[str, ...] = ALL_SCOPES,
               rate_limit: int | None = None, actor: Actor) -> NewKey:
    name = name.strip()
    if not name or len(name) > 80:
        raise BadInput("a key needs a name of 1-80 characters", fields={"name": "1-80"})
    live = conn.execute(select(ApiKey.id).where(ApiKey.name == name,
                                                ApiKey.revoked_at.is_(None))).first()
    if live is not None:
        raise Conflict(f"a live API key named {name!r} exists; revoke it first")
    key = _PREFIX + secrets.token_urlsafe(32)
    prefix = key[:12]
    key_id = conn.execute(insert(ApiKey).values(
        name=name, prefix=prefix, key_hash=_hash(key), scopes=" ".join(scopes),
        rate_limit=rate_limit, created_by=str(actor)).returning(ApiKey.id)).scalar_one()
    audit(conn, actor, "apikey_create", "api_key", str(key_id),
          after={"name": name, "prefix": prefix, "scopes": list(scopes)})
    return NewKey(int(key_id), name, prefix, scopes, key)


def list_keys(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.scopes,
                                   ApiKey.rate_limit, ApiKey.created_at, ApiKey.revoked_at)
                      .order_by(ApiKey.id))


def revoke_key(conn: Connection, which: str, *, actor: Actor) -> int:
    """Revoke the live key named ``which`` (or with that prefix or id)."""
    cond = [ApiKey.name == which, ApiKey.prefix == which]
    if which.isdigit():
        cond.append(ApiKey.id == int(which))
    rows = conn.execute(select(ApiKey.id).where(or_(*cond), ApiKey.revoked_at.is_(None))).all()
    if not rows:
        raise NotFound(f"no live API key {which!r}")
    if len(rows) > 1:
        raise Conflict(f"{which!r} names {len(rows)} keys; give the id")
    key_id = int(rows[0][0])
    conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
    audit(conn, actor, "apikey_revoke", "api_key", str(key_id), before={"which": which})
    return key_id


def key_rate_limit(conn: Connection, key: str | None) -> int | None:
    """The per-minute limit a key was made with (None: the app's default)."""
    if not key or not key.startswith(_PREFIX) or len(key) > 200:
        return None
    value = conn.execute(select(ApiKey.rate_limit).where(ApiKey.key_hash == _hash(key))).scalar()
    return int(value) if value else None


_LIVE_KEY = ("SELECT id, name, prefix, scopes, rate_limit FROM api_key "
             "WHERE key_hash = ? AND revoked_at IS NULL")


def authenticate(conn: Connection, key: str | None) -> KeyInfo | None:
    """The live key ``key`` is, or None."""
    if not key or not key.startswith(_PREFIX) or len(key) > 200:
        return None
    # one indexed look-up per call, so a revocation holds from the next call (at the
    # driver level: Core's execution cost 20 times the look-up itself)
    rows = rowsql.fetch(conn, _LIVE_KEY, (_hash(key),))
    if not rows:
        return None
    key_id, name, prefix, scopes, rate_limit = rows[0]
    return KeyInfo(int(key_id), name, prefix, frozenset(scopes.split()), rate_limit)
