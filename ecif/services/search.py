"""Finding customers for a force-merge (人工强制归并): by name, ID number, mobile or
customer number, persons and organisations alike.

Every look-up is a prefix range on an indexed column (``source_record.name``,
``id_cleaned``, ``mobile``; ``customer.customer_no``), never a scan: on a store of
millions a search reads only the index entries that start with what was typed.
A hit is a live customer; a tombstone's number leads to the customer it was
merged into (``via`` says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, select

from ecif.services.customers import lookup
from matching.exceptions import BadInput, NotFound
from matching.standardise.name import standardise_person_name
from matching.standardise.org import standardise_org_name
from matching.standardise.resident_id import standardise_other_id, standardise_resident_id
from matching.standardise.text import to_halfwidth
from matching.vocabulary import CustomerStatus, CustomerType
from models.customer import Customer, Link
from models.source_record import SourceRecord

__all__ = ["Hit", "search_customers", "SEARCH_FIELDS", "prefix_range"]

#: What a search may look in; ``auto`` tries every field the text can be.
SEARCH_FIELDS = ("auto", "name", "id", "mobile", "customer_no")
_MAX_LIMIT = 200
_MAX_TEXT = 100
_DIGITS = re.compile(r"^\d+$")
_ID_LIKE = re.compile(r"^[0-9A-Z]{6,}$")
_NUMBER_LIKE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


@dataclass
class Hit:
    """One customer found, with the fields its records matched on."""

    customer_no: str
    customer_type: str
    status: str
    name: str | None
    id_type: str | None
    id_number: str | None
    mobile: str | None
    records: int
    matched: list[str] = field(default_factory=list)
    via: str | None = None  # the tombstone number asked for, when followed

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "customer_no", "customer_type", "status", "name", "id_type", "id_number",
            "mobile", "records", "matched", "via")}


def prefix_range(prefix: str) -> tuple[str, str]:
    """``[low, high)`` holding exactly the strings that start with ``prefix`` in code
    point order (SQLite's BINARY collation; PostgreSQL under C or C.UTF-8)."""
    last = prefix[-1]
    return prefix, prefix[:-1] + chr(ord(last) + 1)


def _starts(column: Any, prefix: str) -> Any:
    low, high = prefix_range(prefix)
    return and_(column >= low, column < high)


def _kinds(text: str, wanted: str) -> dict[str, str]:
    """{field: the value to look for} for the text typed."""
    compact = "".join(to_halfwidth(text).split()).replace("-", "")
    upper = compact.upper()
    out: dict[str, str] = {}
    if wanted in ("auto", "customer_no") and _NUMBER_LIKE.match(text.strip()):
        out["customer_no"] = text.strip()
    if wanted in ("auto", "mobile") and _DIGITS.match(compact.removeprefix("+")):
        mobile = compact.removeprefix("+")
        for prefix in ("0086", "86"):
            if mobile.startswith(prefix) and len(mobile) > 11:
                mobile = mobile[len(prefix):]
        out["mobile"] = mobile
    if wanted in ("auto", "id") and (_ID_LIKE.match(upper) or wanted == "id") and upper:
        resident = standardise_resident_id(upper)
        out["id"] = resident.cleaned or standardise_other_id(upper) or upper
    if wanted in ("auto", "name") and text.strip():
        if wanted == "name" or not _DIGITS.match(compact):
            out["name"] = text.strip()
    return out


def _name_forms(text: str) -> list[str]:
    """The typed name as the store keeps it: standardised as a person's name and as
    an organisation's (simplified characters, half-width, …), and as typed."""
    forms = [standardise_person_name(text).name, standardise_org_name(text).name, text]
    return [f for f in dict.fromkeys(forms) if f]


def _record_hits(conn: Connection, column: Any, value: str, ctype: str | None,
                 limit: int) -> list[str]:
    query = (select(Link.customer_no).select_from(SourceRecord)
             .join(Link, Link.record_id == SourceRecord.id)
             .where(_starts(column, value)).order_by(column).limit(limit * 4))
    if ctype:
        query = query.where(SourceRecord.customer_type == ctype)
    return list(dict.fromkeys(conn.execute(query).scalars()))[:limit]


def search_customers(conn: Connection, text: str, *, field_name: str = "auto",
                     customer_type: str | None = None, limit: int = 50) -> list[Hit]:
    """Customers whose records start with ``text`` in the field asked for (``auto``:
    any field the text could be). Live customers only; at most ``limit``."""
    text = (text or "").strip()
    if not text:
        raise BadInput("type a name, an ID number, a mobile or a customer number",
                       {"q": "empty"})
    if len(text) > _MAX_TEXT:
        raise BadInput(f"a search holds at most {_MAX_TEXT} characters", {"q": "too long"})
    if field_name not in SEARCH_FIELDS:
        raise BadInput(f"field {field_name!r}: expected one of {', '.join(SEARCH_FIELDS)}",
                       {"field": "unknown"})
    if customer_type and customer_type not in {t.value for t in CustomerType}:
        raise BadInput(f"customer type {customer_type!r}: expected P or G",
                       {"customer_type": "unknown"})
    limit = max(1, min(int(limit), _MAX_LIMIT))
    matched: dict[str, list[str]] = {}
    via: dict[str, str] = {}

    def found(no: str, what: str) -> None:
        fields = matched.setdefault(no, [])
        if what not in fields:
            fields.append(what)

    for what, value in _kinds(text, field_name).items():
        if what == "customer_no":
            numbers = conn.execute(select(Customer.customer_no).where(
                _starts(Customer.customer_no, value)).order_by(Customer.customer_no)
                .limit(limit)).scalars().all()
            for no in numbers:
                try:
                    live = lookup(conn, no).customer.customer_no
                except NotFound:
                    continue
                if live != no:
                    via.setdefault(live, no)
                found(live, what)
            continue
        column = {"name": SourceRecord.name, "id": SourceRecord.id_cleaned,
                  "mobile": SourceRecord.mobile}[what]
        for form in _name_forms(value) if what == "name" else [value]:
            for no in _record_hits(conn, column, form, customer_type, limit):
                found(no, what)
    if not matched:
        return []
    query = select(Customer).where(Customer.customer_no.in_(list(matched)[: limit * 4]),
                                   Customer.status == CustomerStatus.ACTIVE)
    if customer_type:
        query = query.where(Customer.customer_type == customer_type)
    rows = {r.customer_no: r for r in conn.execute(query)}
    hits = [Hit(no, r.customer_type, r.status, r.name, r.id_type, r.id_number, r.mobile,
                r.records, matched[no], via.get(no))
            for no in matched if (r := rows.get(no)) is not None]
    return hits[:limit]
