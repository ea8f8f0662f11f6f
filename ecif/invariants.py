"""The store's invariants, checked at the end of every batch (and by tests):

- every source record the batch has seen is linked to exactly one active customer;
- no active customer is empty, and a tombstone resolves to an active customer;
- every steward decision in force holds (must-link: one customer; cannot-link: two).
"""

from __future__ import annotations

from sqlalchemy import Connection

from ecif.bulk import read_frame
from matching.vocabulary import CustomerStatus, DecisionScope, Judgement

__all__ = ["check_invariants"]


def _count(conn: Connection, sql: str, params: dict[str, object] | None = None) -> int:
    return int(read_frame(conn, sql, params)["n"].iloc[0])


def check_invariants(conn: Connection, watermark: int | None = None) -> list[str]:
    """Violations, each a sentence; empty when the store is consistent."""
    problems = []
    seen = "" if watermark is None else f"AND s.ingest_id <= {int(watermark)}"
    n = _count(conn, "SELECT count(*) AS n FROM source_record s LEFT JOIN link l "
                     f"ON l.record_id = s.id WHERE l.record_id IS NULL {seen}")
    if n:
        problems.append(f"{n} source record(s) linked to no customer")
    n = _count(conn, "SELECT count(*) AS n FROM link l JOIN customer c "
                     "ON c.customer_no = l.customer_no WHERE c.status <> :live",
               {"live": CustomerStatus.ACTIVE})
    if n:
        problems.append(f"{n} link(s) to a customer that is not active")
    n = _count(conn, "SELECT count(*) AS n FROM customer c WHERE c.status = :live AND "
                     "NOT EXISTS (SELECT 1 FROM link l WHERE l.customer_no = c.customer_no)",
               {"live": CustomerStatus.ACTIVE})
    if n:
        problems.append(f"{n} active customer(s) without records")
    n = _count(conn, "SELECT count(*) AS n FROM customer c LEFT JOIN customer t "
                     "ON t.customer_no = c.merged_into WHERE c.status = :tombstone "
                     "AND t.customer_no IS NULL", {"tombstone": CustomerStatus.MERGED})
    if n:
        problems.append(f"{n} tombstone(s) pointing at no customer")
    for judgement, op, words in ((Judgement.MUST_LINK, "<>", "apart despite a must-link"),
                                 (Judgement.CANNOT_LINK, "=", "together despite a cannot-link")):
        n = _count(conn, (
            "SELECT count(*) AS n FROM decision d "
            "JOIN source_record a ON a.record_key = d.left_key "
            "JOIN source_record b ON b.record_key = d.right_key "
            "JOIN link la ON la.record_id = a.id JOIN link lb ON lb.record_id = b.id "
            "WHERE d.deleted_at IS NULL AND d.scope = :record AND d.judgement = :j "
            f"AND la.customer_no {op} lb.customer_no"),
            {"j": judgement, "record": DecisionScope.RECORD})
        if n:
            problems.append(f"{n} record pair(s) {words}")
    return problems
