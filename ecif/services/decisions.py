"""Steward judgements, append-only (nomenklatura's shape): a change soft-deletes
the old row and inserts a new one; rows are never edited otherwise. Every
batch obeys the live ones, and a decision that would contradict a standing
one is refused when it is made, naming the decision it contradicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, insert, or_, select, update

from ecif.bulk import in_batches, read_frame
from ecif.services.audit import audit
from ecif.services.base import Actor
from matching.exceptions import BadInput, Conflict, NotFound
from matching.vocabulary import DecisionScope, Judgement
from models.base import utcnow
from models.customer import Customer, Link
from models.decision import Decision
from models.source_record import SourceRecord

__all__ = ["make_decision", "make_decisions", "withdraw_decision", "withdraw_event_decisions",
           "live_decisions", "refuse_cannot_link_within", "refuse_must_link_across",
           "describe"]

#: How far a chain of must-links is followed when checking a new decision.
_MAX_HOPS = 20


def describe(d: Any) -> str:
    """One decision in words, for messages."""
    return (f"decision #{d.id} ({d.judgement} of {d.left_key} and {d.right_key}, by "
            f"{d.created_by} at {d.created_at:%Y-%m-%d %H:%M})")


def make_decision(conn: Connection, judgement: str, left: str, right: str, *,
                  actor: Actor, scope: str = DecisionScope.RECORD, reason: str | None = None,
                  approved_by: str | None = None, task_id: int | None = None,
                  event_id: int | None = None, request_id: int | None = None,
                  check: bool = True) -> int:
    """Record that two records (or customers) are, or are not, one customer. The
    next batch obeys it; a live decision on the same pair is superseded. With
    ``check``, a record-scope decision that contradicts a standing one (a
    must-link across a cannot-link, or the reverse, directly or through a chain
    of must-links) is refused with a :class:`Conflict` naming it."""
    try:
        judgement = Judgement(judgement)
    except ValueError:
        raise BadInput(f"judgement {judgement!r}: expected "
                       + " or ".join(j.value for j in Judgement),
                       {"judgement": "unknown"}) from None
    try:
        scope = DecisionScope(scope)
    except ValueError:
        raise BadInput(f"scope {scope!r}: expected record or customer",
                       {"scope": "unknown"}) from None
    if left == right:
        raise BadInput(f"a decision needs two different {scope}s, got {left!r} twice")
    left, right = sorted((left, right))
    if check and scope == DecisionScope.RECORD:
        _require_records(conn, [left, right])
        if judgement == Judgement.MUST_LINK:
            refuse_cannot_link_within(conn, [left, right], ignore=(left, right))
        else:
            refuse_must_link_across(conn, [left], [right], ignore=(left, right))
    ids = make_decisions(conn, judgement, [(left, right)], actor=actor, scope=scope,
                         reason=reason, approved_by=approved_by, task_id=task_id,
                         event_id=event_id, request_id=request_id)
    return ids[0]


def make_decisions(conn: Connection, judgement: str, pairs: Sequence[tuple[str, str]], *,
                   actor: Actor, scope: str = DecisionScope.RECORD,
                   reason: str | None = None, approved_by: str | None = None,
                   task_id: int | None = None, event_id: int | None = None,
                   request_id: int | None = None) -> list[int]:
    """Insert one decision per pair (no contradiction check: the caller did it),
    superseding live decisions on the same pairs; one audit row for them all."""
    pairs = sorted({tuple(sorted(p)) for p in pairs if p[0] != p[1]})  # type: ignore[misc]
    if not pairs:
        return []
    now = utcnow()
    old = _live_on_pairs(conn, pairs, scope)
    ids = list(conn.execute(insert(Decision).returning(Decision.id, sort_by_parameter_order=True),
                            [{"judgement": str(judgement), "scope": str(scope), "left_key": a,
                              "right_key": b, "reason": reason, "task_id": task_id,
                              "event_id": event_id, "request_id": request_id,
                              "created_by": str(actor), "approved_by": approved_by,
                              "created_at": now} for a, b in pairs]).scalars())
    if old:
        by_pair = dict(zip(pairs, ids, strict=True))
        for old_id, pair in old.items():
            conn.execute(update(Decision).where(Decision.id == old_id).values(
                deleted_at=now, deleted_by=str(actor), superseded_by=by_pair[pair]))
    audit(conn, actor, f"decision_{judgement}", "decision",
          ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}",
          after={"judgement": str(judgement), "scope": str(scope),
                 "pairs": [list(p) for p in pairs[:50]], "count": len(pairs)},
          before={"superseded": sorted(old)} if old else None,
          reason=reason, task_id=task_id, event_id=event_id, request_id=request_id,
          approved_by=approved_by)
    return ids


def _live_on_pairs(conn: Connection, pairs: Sequence[tuple[str, str]],
                   scope: str) -> dict[int, tuple[str, str]]:
    wanted = set(pairs)
    lefts = sorted({a for a, _ in pairs})
    found: dict[int, tuple[str, str]] = {}
    for part in in_batches(lefts):
        rows = conn.execute(select(Decision.id, Decision.left_key, Decision.right_key).where(
            Decision.left_key.in_(part), Decision.scope == str(scope),
            Decision.deleted_at.is_(None)))
        for r in rows:
            if (r.left_key, r.right_key) in wanted:
                found[int(r.id)] = (r.left_key, r.right_key)
    return found


def withdraw_decision(conn: Connection, decision_id: int, *, actor: Actor,
                      reason: str | None = None) -> None:
    row = conn.execute(select(Decision).where(Decision.id == decision_id)).first()
    if row is None:
        raise NotFound(f"decision {decision_id}: no such decision")
    done = conn.execute(update(Decision).where(Decision.id == decision_id,
                                               Decision.deleted_at.is_(None))
                        .values(deleted_at=utcnow(), deleted_by=str(actor)))
    if done.rowcount != 1:
        raise Conflict(f"decision {decision_id} was already withdrawn or superseded")
    audit(conn, actor, "decision_withdrawn", "decision", decision_id,
          before={"judgement": row.judgement, "left": row.left_key,
                  "right": row.right_key}, reason=reason)


def withdraw_event_decisions(conn: Connection, event_id: int, *, actor: Actor) -> int:
    """Withdraw the live decisions an event wrote (undoing the event)."""
    done = conn.execute(update(Decision).where(Decision.event_id == event_id,
                                               Decision.deleted_at.is_(None))
                        .values(deleted_at=utcnow(), deleted_by=str(actor)))
    return int(done.rowcount or 0)


def live_decisions(conn: Connection) -> pd.DataFrame:
    """Steward judgements in force, as record-key pairs (customer scope expanded to
    the first record of each customer, following merged-into tombstones):
    columns ``judgement``, ``left``, ``right``."""
    raw = read_frame(conn, select(Decision.judgement, Decision.scope, Decision.left_key,
                                  Decision.right_key)
                     .where(Decision.deleted_at.is_(None)).order_by(Decision.id))
    if raw.empty:
        return pd.DataFrame(columns=["judgement", "left", "right"])
    customers = raw["scope"].eq(DecisionScope.CUSTOMER)
    if customers.any():
        keys = read_frame(conn, select(Link.customer_no, SourceRecord.record_key)
                          .join(SourceRecord, SourceRecord.id == Link.record_id))
        first = keys.groupby("customer_no")["record_key"].min()
        tomb = read_frame(conn, select(Customer.customer_no, Customer.merged_into)
                          .where(Customer.merged_into.is_not(None)))
        into = dict(zip(tomb["customer_no"], tomb["merged_into"], strict=True))
        rep = first.to_dict()

        def resolve(no: str) -> str | None:
            for _ in range(100):
                if no not in into:
                    break
                no = into[no]
            return rep.get(no)

        for side in ("left_key", "right_key"):
            raw.loc[customers, side] = raw.loc[customers, side].map(resolve)
    raw = raw.dropna(subset=["left_key", "right_key"])
    return raw.rename(columns={"left_key": "left", "right_key": "right"})[
        ["judgement", "left", "right"]]


# --- contradictions -------------------------------------------------------------------


def _require_records(conn: Connection, keys: Iterable[str]) -> None:
    keys = sorted(set(keys))
    found = set(conn.execute(select(SourceRecord.record_key)
                             .where(SourceRecord.record_key.in_(keys))).scalars())
    missing = [k for k in keys if k not in found]
    if missing:
        raise NotFound(f"no source record {missing[0]!r}")


def _live(conn: Connection, judgement: Judgement, keys: set[str],
          ignore: tuple[str, str] | None = None) -> list[Any]:
    """Live record-scope decisions of ``judgement`` with an end among ``keys`` (but
    none on the pair ``ignore``: the decision about to supersede it)."""
    rows: list[Any] = []
    for part in in_batches(sorted(keys)):
        rows += conn.execute(select(Decision).where(
            Decision.deleted_at.is_(None), Decision.scope == DecisionScope.RECORD,
            Decision.judgement == judgement,
            or_(Decision.left_key.in_(part), Decision.right_key.in_(part)))).all()
    rows = [r for r in rows if (r.left_key, r.right_key) != ignore]
    return sorted({r.id: r for r in rows}.values(), key=lambda r: r.id)


def _must_component(conn: Connection, keys: Iterable[str],
                    ignore: tuple[str, str] | None = None) -> set[str]:
    """``keys`` and the records that live must-links (chains of them) hold to them.
    Only decisions count: a machine merge is no judgement, so a steward may say
    that two records the batch put together are different people."""
    seen = set(keys)
    frontier = set(seen)
    for _ in range(_MAX_HOPS):
        if not frontier:
            break
        reached = {k for d in _live(conn, Judgement.MUST_LINK, frontier, ignore)
                   for k in (d.left_key, d.right_key)} - seen
        seen |= reached
        frontier = reached
    return seen


def refuse_cannot_link_within(conn: Connection, keys: Iterable[str],
                              ignore: tuple[str, str] | None = None) -> None:
    """Conflict if joining ``keys`` (and what is held with them) into one customer
    would put both ends of a live cannot-link together."""
    group = _must_component(conn, keys, ignore)
    for d in _live(conn, Judgement.CANNOT_LINK, group, ignore):
        if d.left_key in group and d.right_key in group:
            raise Conflict(f"{describe(d)} says these are different customers; withdraw "
                           "it (or roll back the split that made it) first")
    customer_scope = conn.execute(select(Decision).where(
        Decision.deleted_at.is_(None), Decision.scope == DecisionScope.CUSTOMER,
        Decision.judgement == Judgement.CANNOT_LINK)).all()
    if customer_scope:
        nos = _customers_of(conn, group)
        for d in customer_scope:
            if d.left_key in nos and d.right_key in nos:
                raise Conflict(f"{describe(d)} says these are different customers; "
                               "withdraw it first")


def refuse_must_link_across(conn: Connection, left: Iterable[str], right: Iterable[str],
                            ignore: tuple[str, str] | None = None) -> None:
    """Conflict if keeping ``left`` and ``right`` apart would break a live must-link
    (directly or through a chain)."""
    left, right = set(left), set(right)
    group = _must_component(conn, left, ignore)
    joined = group & right
    if joined:
        links = [d for d in _live(conn, Judgement.MUST_LINK, group, ignore)
                 if d.left_key in group and d.right_key in group]
        named = describe(links[0]) if links else "they are one customer now"
        raise Conflict(f"{sorted(joined)[0]} is held together with {sorted(left)[0]} by "
                       f"{named}; withdraw it (or roll back that merge) first")


def _customers_of(conn: Connection, keys: set[str]) -> set[str]:
    nos: set[str] = set()
    for part in in_batches(sorted(keys)):
        nos |= set(conn.execute(select(Link.customer_no).join(
            SourceRecord, SourceRecord.id == Link.record_id).where(
            SourceRecord.record_key.in_(part))).scalars())
    return nos
