"""The columns the engine matches on, derived from standardised records.

Written as portable SQL (``||``, ``substr``, ``length``, ``CASE``, ``coalesce``,
``replace``, ``nullif``, ``least``, ``greatest``, ``bit_length``, ``chr``, and
``regexp_extract(str, pattern, group)`` with a pattern free of backslashes,
which DuckDB (RE2) and Spark (Java) read alike and both answer '' on no
match) so that the same text runs on DuckDB and on Spark through Splink's
database API. Hanzi are compared exactly or position by position (DuckDB's
string distances counted UTF-8 bytes before 2.0, Spark's count characters); fuzzy
distances run only on pinyin keys, digits and the Latin columns below, which
hold a value only when the name or address is pure ASCII
(``bit_length = 8 * length``), where bytes and characters are the same.

Latin-script names keep their order as keyed (``given surname`` or
``surname given``), so persons get the first and the last word of such a name
(``name_first``, ``name_last``) and the two in alphabetical order
(``name_lo``, ``name_hi``): equal whichever order was keyed. Latin-script
addresses get a space-free form for Jaro-Winkler (words split or run
together), their house number (a leading number) and their last word (a
postcode).
"""

from __future__ import annotations

__all__ = ["person_features_sql", "organisation_features_sql", "FEATURE_KEY", "HEAD_OFFICE",
           "LATIN_NAME_COLUMNS", "LATIN_ADDRESS_COLUMNS"]

#: The record key: source system and the source's customer id.
FEATURE_KEY = "source_system || ':' || source_customer_id"


def _ascii(col: str) -> str:
    """True when ``col`` is pure ASCII: one byte per character, on both engines."""
    return f"bit_length({col}) = 8 * length({col})"


def _latin_word(col: str, pattern: str) -> str:
    """Group 1 of ``pattern`` in an ASCII ``col`` holding a space, else NULL."""
    return (f"CASE WHEN {_ascii(col)} AND instr({col}, ' ') > 0 "
            f"THEN nullif(regexp_extract({col}, '{pattern}', 1), '') END")


def _name_word(pattern: str) -> str:
    """A word of an ASCII name, without the hyphens and apostrophes name_plain drops."""
    # chr(39) is the apostrophe: Spark reads '''' as two empty literals, not as "'"
    word = f"replace(replace(regexp_extract(name, '{pattern}', 1), '-', ''), chr(39), '')"
    return f"CASE WHEN {_ascii('name')} THEN nullif({word}, '') END"


_NAME_FIRST = _name_word("^([^ ]+)")
_NAME_LAST = _name_word("([^ ]+)$")

#: Persons: the first and last word of a Latin-script name (a one-word name is both),
#: and the two sorted.
LATIN_NAME_COLUMNS: dict[str, str] = {
    "name_first": _NAME_FIRST,
    "name_last": _NAME_LAST,
    "name_lo": f"least({_NAME_FIRST}, {_NAME_LAST})",
    "name_hi": f"greatest({_NAME_FIRST}, {_NAME_LAST})",
}

#: Both types: a Latin-script address without spaces, its house number, its last word.
LATIN_ADDRESS_COLUMNS: dict[str, str] = {
    "address_latin": f"CASE WHEN {_ascii('address')} THEN replace(address, ' ', '') END",
    "address_number": _latin_word("address", "^([0-9]+[A-Z]?) "),
    "address_last": _latin_word("address", " ([^ ]+)$"),
}


def _select(columns: dict[str, str]) -> str:
    return ",\n        ".join(f"{sql} AS {name}" for name, sql in columns.items())


_COMMON = f"""
        {FEATURE_KEY} AS unique_id,
        source_system, source_customer_id, customer_type,
        name, name_plain, name_pinyin,
        id_type, id_number, id_cleaned,
        mobile, email, phone,
        address, province, city, district, address_detail,
        {_select(LATIN_ADDRESS_COLUMNS)}"""


def _extra(columns: tuple[str, ...]) -> str:
    return "".join(f"{c}, " for c in columns)


def person_features_sql(table: str, extra: tuple[str, ...] = ()) -> str:
    """Persons: valid resident ID apart, gender U as unknown, birth year, the
    words of a Latin-script name. ``extra`` columns of ``table`` are passed through."""
    return f"""
    SELECT {_extra(extra)}{_COMMON},
        surname, given_name,
        {_select(LATIN_NAME_COLUMNS)},
        CASE WHEN gender IN ('M', 'F') THEN gender END AS gender,
        birth_date,
        substr(birth_date, 1, 4) AS birth_year,
        CASE WHEN id_type = 'RESIDENT_ID' THEN id_number END AS resident_id,
        substr(id_cleaned, 1, 14) AS id_prefix
    FROM {table}
    WHERE customer_type = 'P'
    """


#: The branch state of a head office (a branch's state is its branch name).
HEAD_OFFICE = "HEAD_OFFICE"


def _branch_state(table: str) -> str:
    """A record's branch state: its branch name when its name carries a branch
    marker; else, with a valid organisation code of its own, ``HEAD_OFFICE``;
    else unknown (NULL). A code is "of its own" when no record holding it
    carries a marker: a marker-less record whose code other records carry with
    one branch name is that branch (it lost its marker), and with several names
    it is unknown. Two records with different states never share a cluster
    (cluster.py); see also :func:`matching.engine.run.branch_gate`."""
    by_code = "OVER (PARTITION BY org_code)"
    return f"""CASE
            WHEN org_branch IS NOT NULL THEN org_branch
            WHEN org_code IS NULL THEN NULL
            WHEN max(org_branch) {by_code} IS NULL THEN '{HEAD_OFFICE}'
            WHEN min(org_branch) {by_code} = max(org_branch) {by_code}
                THEN max(org_branch) {by_code}
        END"""


def organisation_features_sql(table: str, extra: tuple[str, ...] = ()) -> str:
    """Organisations: one organisation code whichever ID was keyed (valid or
    not, for fuzzy comparison), the branch state, a core prefix."""
    return f"""
    SELECT {_extra(extra)}{_COMMON},
        org_core, org_region, org_legal_form, org_branch,
        {_branch_state(table)} AS branch_state,
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
