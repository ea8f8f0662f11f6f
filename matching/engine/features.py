"""The columns the engine matches on, derived from standardised records.

Written as portable SQL (``||``, ``substr``, ``length``, ``CASE``, ``coalesce``)
so that the same text runs on DuckDB and on Spark through Splink's database
API. Hanzi are compared exactly or position by position (DuckDB's string
distances count UTF-8 bytes, Spark's count characters); fuzzy distances run
only on pinyin keys and digits.
"""

from __future__ import annotations

__all__ = ["person_features_sql", "organisation_features_sql", "FEATURE_KEY"]

#: The record key: source system and the source's customer id.
FEATURE_KEY = "source_system || ':' || source_customer_id"

_COMMON = """
    {key} AS unique_id,
    source_system, source_customer_id, customer_type,
    name, name_plain, name_pinyin,
    id_type, id_number, id_cleaned,
    mobile, email, phone,
    address, province, city, district, address_detail
"""


def person_features_sql(table: str) -> str:
    """Persons: valid resident ID apart, gender U as unknown, birth year."""
    return f"""
    SELECT {_COMMON.format(key=FEATURE_KEY)},
        surname, given_name,
        CASE WHEN gender IN ('M', 'F') THEN gender END AS gender,
        birth_date,
        substr(birth_date, 1, 4) AS birth_year,
        CASE WHEN id_type = 'RESIDENT_ID' THEN id_number END AS resident_id,
        substr(id_cleaned, 1, 14) AS id_prefix
    FROM {table}
    WHERE customer_type = 'P'
    """


def organisation_features_sql(table: str) -> str:
    """Organisations: one organisation code whichever ID was keyed (valid or
    not, for fuzzy comparison), the branch identity, a core prefix."""
    return f"""
    SELECT {_COMMON.format(key=FEATURE_KEY)},
        org_core, org_region, org_legal_form, org_branch,
        coalesce(org_branch, '') AS branch_key,
        org_code,
        CASE
            WHEN id_type = 'USCC' AND length(id_cleaned) = 18 THEN substr(id_cleaned, 9, 9)
            WHEN id_type = 'ORG_CODE' AND length(id_cleaned) = 9 THEN id_cleaned
        END AS org_code_any,
        substr(org_core, 1, 2) AS core_prefix,
        legal_rep, legal_rep_pinyin
    FROM {table}
    WHERE customer_type = 'G'
    """
