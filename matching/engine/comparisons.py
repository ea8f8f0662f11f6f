"""Splink comparisons fitted to Chinese customer data, and to Latin-script
names and addresses (foreign customers, the FEBRL benchmark).

Each comparison is a list of levels, most specific first. Hanzi columns are
compared exactly or position by position; Jaro-Winkler and
Damerau-Levenshtein run on pinyin keys, digit strings and the ASCII-only
``*_latin`` / Latin word columns of :mod:`matching.engine.features` only, so
DuckDB and Spark give the same levels (DuckDB before 2.0 counted UTF-8 bytes).
The Latin levels need columns a hanzi value leaves NULL, so they never fire
on Chinese names and addresses.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect

__all__ = [
    "person_name",
    "resident_id",
    "birth_date",
    "gender",
    "mobile",
    "exact_or_else",
    "address",
    "org_core",
    "org_code",
    "legal_rep",
]


def _positions_equal(col: str, upto: int = 4) -> str:
    """SQL counting equal characters position by position (beyond the end both are '')."""
    return " + ".join(
        f"CASE WHEN substr({col}_l, {i}, 1) = substr({col}_r, {i}, 1) THEN 1 ELSE 0 END"
        for i in range(1, upto + 1)
    )


def _initial_and_surname() -> str:
    """One name's single-letter word is the first letter of a word of the other
    name, and the two names' remaining words are equal (``w smith`` / ``william
    smith``, ``SMITH W`` / ``william smith``), in either order."""
    clauses = []
    for a, b in (("l", "r"), ("r", "l")):
        for ini, rest in (("name_first", "name_last"), ("name_last", "name_first")):
            for full, other in (("name_first", "name_last"), ("name_last", "name_first")):
                clauses.append(
                    f"(length({ini}_{a}) = 1 AND length({full}_{b}) > 1 "
                    f"AND {ini}_{a} = substr({full}_{b}, 1, 1) AND {rest}_{a} = {other}_{b} "
                    f"AND length({rest}_{a}) > 1)")
    return " OR ".join(clauses)


class _AnyWordSimilarLevel(ComparisonLevelCreator):
    """Some word of the left name Jaro-Winkler-similar to some word of the right
    one (each of ``cols`` against each): a level Splink's library, which
    compares a column with itself, has no form for."""

    def __init__(self, cols: tuple[str, ...], threshold: float) -> None:
        self.cols = cols
        self.threshold = threshold

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        jw = sql_dialect.jaro_winkler_function_name
        return " OR ".join(f"{jw}({a}_l, {b}_r) >= {self.threshold}"
                           for a in self.cols for b in self.cols)

    def create_label_for_charts(self) -> str:
        return f"One word similar (Jaro-Winkler >= {self.threshold})"


def person_name() -> ComparisonCreator:
    """Name: exact (term-frequency adjusted, so 张伟 counts for less than 诸葛亮),
    equal pinyin (homophone typos 伟/玮), the same words in another order
    (Latin ``smith john`` / ``john smith``), each word of a Latin name similar
    (whatever the order: ``michael laverty`` / ``laverty micheal``), an initial
    and the other word (``w smith`` / ``william smith``), one
    character different in a 3- or 4-character name (look-alikes 己/已; in a
    2-character name that would be any two people sharing a surname), similar
    pinyin, roughly similar pinyin, else.

    Then, for Latin names only, a word of one name within the other (``pacey``
    / ``casey pacey``, ``amy hunting`` / ``georgia hunting``) or one word
    similar: the counterpart of what roughly similar pinyin finds in Chinese
    names, surname first (张伟 / 张强), which Jaro-Winkler misses when the
    given name comes first.

    The levels from "Same words in another order" up are the names agreeing,
    in config/matching.yaml's model guard, which reads levels as "at least".
    "Each word similar" sits just below them and above every level a hanzi
    name can reach short of the same pinyin: a guard naming it admits on a
    Chinese name nothing beyond the same pinyin."""
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_plain"),
            cll.ExactMatchLevel("name_plain", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_pinyin", term_frequency_adjustments=True),
            cll.CustomLevel(
                "name_lo_l = name_lo_r AND name_hi_l = name_hi_r",
                label_for_charts="Same words in another order",
            ),
            cll.And(
                cll.JaroWinklerLevel("name_lo", 0.88), cll.JaroWinklerLevel("name_hi", 0.88)
            ).configure(label_for_charts="Each word similar"),
            cll.CustomLevel(_initial_and_surname(),
                            label_for_charts="An initial and the other word"),
            cll.CustomLevel(
                "length(name_plain_l) = length(name_plain_r) "
                "AND length(name_plain_l) BETWEEN 3 AND 4 "
                f"AND ({_positions_equal('name_plain')}) = 3",
                label_for_charts="One character different",
            ),
            cll.JaroWinklerLevel("name_pinyin", 0.92),
            cll.JaroWinklerLevel("name_pinyin", 0.8),
            cll.CustomLevel(
                " OR ".join(
                    f"(length({w}_{a}) >= 3 AND instr(name_plain_{b}, {w}_{a}) > 0)"
                    for w in ("name_first", "name_last") for a, b in (("l", "r"), ("r", "l"))
                ),
                label_for_charts="A word of one name in the other",
            ),
            _AnyWordSimilarLevel(("name_first", "name_last"), 0.85),
            cll.ElseLevel(),
        ],
    )


def resident_id() -> ComparisonCreator:
    """Identity number as keyed and cleaned (valid or not): exact, one digit
    wrong or two adjacent swapped (Damerau-Levenshtein 1), else."""
    return cl.CustomComparison(
        output_column_name="id",
        comparison_levels=[
            cll.NullLevel("id_cleaned"),
            cll.ExactMatchLevel("id_cleaned"),
            cll.DamerauLevenshteinLevel("id_cleaned", 1),
            cll.ElseLevel(),
        ],
    )


def birth_date() -> ComparisonCreator:
    """Birth date: exact, day and month swapped, one digit wrong or two adjacent
    swapped (YYYY-MM-DD is ASCII), same year and month, same year, else."""
    swapped = (
        "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
        "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
        "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
    )
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(swapped, label_for_charts="Day and month swapped"),
            cll.DamerauLevenshteinLevel("birth_date", 1),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 7) = substr(birth_date_r, 1, 7)",
                label_for_charts="Same year and month",
            ),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)",
                label_for_charts="Same year",
            ),
            cll.ElseLevel(),
        ],
    )


def gender() -> ComparisonCreator:
    return exact_or_else("gender")


def mobile() -> ComparisonCreator:
    """Mobile: exact (term-frequency adjusted: a household shares one), one digit off, else."""
    return cl.CustomComparison(
        output_column_name="mobile",
        comparison_levels=[
            cll.NullLevel("mobile"),
            cll.ExactMatchLevel("mobile", term_frequency_adjustments=True),
            cll.DamerauLevenshteinLevel("mobile", 1),
            cll.ElseLevel(),
        ],
    )


def exact_or_else(col: str, tf: bool = False) -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=tf),
            cll.ElseLevel(),
        ],
    )


def address() -> ComparisonCreator:
    """Address by normalised parts: exact, one a prefix of the other (truncated
    after the street number), same district, same city; a Latin-script address
    (no parts parsed) by its space-free form: similar (Jaro-Winkler), or the
    same house number and last word (postcode), roughly similar; else."""
    prefix = (
        "(address_detail_l IS NOT NULL AND address_detail_r IS NOT NULL "
        "AND length(address_l) >= 6 AND length(address_r) >= 6 AND "
        "(substr(address_l, 1, length(address_r)) = address_r "
        "OR substr(address_r, 1, length(address_l)) = address_l))"
    )
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address", term_frequency_adjustments=True),
            cll.CustomLevel(prefix, label_for_charts="One a prefix of the other"),
            cll.CustomLevel(
                "(city_l = city_r OR city_l IS NULL OR city_r IS NULL) "
                "AND district_l = district_r AND address_detail_l = address_detail_r",
                label_for_charts="Same district and street address",
            ),
            cll.CustomLevel(
                "city_l = city_r AND district_l = district_r", label_for_charts="Same district"
            ),
            cll.CustomLevel("city_l = city_r", label_for_charts="Same city"),
            cll.JaroWinklerLevel("address_latin", 0.9),
            cll.And(
                cll.ExactMatchLevel("address_number"), cll.ExactMatchLevel("address_last")
            ).configure(label_for_charts="Same house number and last word"),
            cll.JaroWinklerLevel("address_latin", 0.8),
            cll.ElseLevel(),
        ],
    )


def org_core() -> ComparisonCreator:
    """Organisation name core: exact (term-frequency adjusted), equal pinyin,
    one contains the other (an industry word dropped), similar pinyin, else."""
    contains = (
        "length(org_core_l) >= 2 AND length(org_core_r) >= 2 AND "
        "(instr(org_core_l, org_core_r) > 0 OR instr(org_core_r, org_core_l) > 0)"
    )
    return cl.CustomComparison(
        output_column_name="org_core",
        comparison_levels=[
            cll.NullLevel("org_core"),
            cll.ExactMatchLevel("org_core", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_pinyin"),
            cll.CustomLevel(contains, label_for_charts="One contains the other"),
            cll.JaroWinklerLevel("name_pinyin", 0.9),
            cll.ElseLevel(),
        ],
    )


def org_code() -> ComparisonCreator:
    """Organisation code (keyed or from a USCC, valid or not): exact, one character off, else."""
    return cl.CustomComparison(
        output_column_name="org_code",
        comparison_levels=[
            cll.NullLevel("org_code_any"),
            cll.ExactMatchLevel("org_code_any"),
            cll.DamerauLevenshteinLevel("org_code_any", 1),
            cll.ElseLevel(),
        ],
    )


def legal_rep() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="legal_rep",
        comparison_levels=[
            cll.NullLevel("legal_rep"),
            cll.ExactMatchLevel("legal_rep"),
            cll.ExactMatchLevel("legal_rep_pinyin"),
            cll.ElseLevel(),
        ],
    )
