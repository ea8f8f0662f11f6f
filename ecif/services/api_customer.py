"""A customer as the integrators' API shows it: the golden record, its source
records, and ``merged_into`` when the number asked for is a tombstone (the
caller follows it). Without the ``pii`` scope, identifiers and mobiles are
masked and the source records show their keys only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ecif.services.masking import mask_fields
from matching.exceptions import NotFound
from matching.vocabulary import CustomerStatus
from models.customer import GOLDEN_FIELDS, Customer, Link
from models.source_record import SourceRecord

__all__ = ["customer_answer"]

_RECORD_FIELDS = ("customer_type", "name", "gender", "birth_date", "id_type", "id_number",
                  "mobile", "phone", "email", "address", "legal_rep", "updated_at")


def customer_answer(conn: Connection, customer_no: str, *, pii: bool) -> dict[str, Any]:
    row = conn.execute(select(Customer).where(Customer.customer_no == customer_no)).first()
    if row is None:
        raise NotFound(f"customer {customer_no!r}: no such customer")
    body: dict[str, Any] = {"customer_no": row.customer_no, "customer_type": row.customer_type,
                            "status": row.status, "merged_into": row.merged_into}
    if row.status == CustomerStatus.MERGED:
        body.update(golden=None, records=[])
        return body
    golden = {f: getattr(row, f) for f in GOLDEN_FIELDS}
    body["golden"] = golden if pii else mask_fields(golden)
    records = conn.execute(
        select(SourceRecord.source_system, SourceRecord.source_customer_id, Link.link_type,
               *(getattr(SourceRecord, f) for f in _RECORD_FIELDS))
        .join(Link, Link.record_id == SourceRecord.id)
        .where(Link.customer_no == customer_no)
        .order_by(SourceRecord.source_system, SourceRecord.source_customer_id)).mappings().all()
    keys = ("source_system", "source_customer_id", "link_type")
    body["records"] = [dict(r) if pii else {k: r[k] for k in keys} for r in records]
    body["version"] = row.version
    return body
