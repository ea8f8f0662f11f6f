"""Column lists of the contract's record format (CONTRACT.md §1, §3)."""

from __future__ import annotations

__all__ = ["INPUT_COLUMNS", "REQUIRED_COLUMNS", "CONTRACT_OUTPUT_COLUMNS", "OUTPUT_COLUMNS",
           "FIELD_LIMITS"]

#: §1: the columns a source file carries, in order.
INPUT_COLUMNS: tuple[str, ...] = (
    "source_system",
    "source_customer_id",
    "customer_type",
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "mobile",
    "phone",
    "email",
    "address",
    "legal_rep",
    "updated_at",
)

#: The longest value (characters, trimmed) each input column may hold; a longer one
#: rejects the row (FIELD_TOO_LONG). Generous for every real value, and within the
#: store's column widths (the key, the ID); a cell of thousands of characters is an
#: export gone wrong, such as a quote never closed that swallowed the lines after it.
FIELD_LIMITS: dict[str, int] = {
    "source_system": 40,
    "source_customer_id": 150,
    "customer_type": 10,
    "name": 200,
    "gender": 20,
    "birth_date": 40,
    "id_type": 40,
    "id_number": 64,
    "mobile": 40,
    "phone": 40,
    "email": 254,  # RFC 5321's longest address
    "address": 500,
    "legal_rep": 200,
    "updated_at": 40,
}

#: A file lacking any of these cannot be read at all (the others may be absent).
REQUIRED_COLUMNS: tuple[str, ...] = ("source_system", "source_customer_id", "customer_type", "name")

#: §3 ``ecif standardise``: these columns, in this order, come first.
CONTRACT_OUTPUT_COLUMNS: tuple[str, ...] = (
    "source_system",
    "source_customer_id",
    "customer_type",
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "mobile",
    "email",
    "issues",
)

#: Everything the engine matches on: the contract's columns, then the derived ones.
OUTPUT_COLUMNS: tuple[str, ...] = CONTRACT_OUTPUT_COLUMNS + (
    "name_plain",       # name without the minority-name dot / Latin spaces
    "surname",
    "given_name",
    "name_pinyin",      # pinyin key with surname readings; organisations: of org_core
    "id_cleaned",       # compacted (and widened) ID whatever its validity: fuzzy compare only
    "id_valid",         # "1" when id_number passed its checksum, else "0" / empty
    "id_raw",           # the ID as keyed, for display
    "phone",            # landline 0AA-NNNNNNNN
    "address",          # one normalised comparison form
    "province",
    "city",
    "district",
    "address_detail",
    "org_core",         # organisation name without region, legal form, branch
    "org_region",
    "org_legal_form",
    "org_branch",
    "uscc",
    "org_code",         # from ORG_CODE records and derived from USCC characters 9-17
    "legal_rep",
    "legal_rep_pinyin",
    "updated_at",       # ISO 8601, as keyed but normalised
)
