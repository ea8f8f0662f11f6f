"""Splink settings for the two models, persons and organisations.

Authoring is kept apart from running: these functions only describe the
models (comparisons and blocking rules); :mod:`matching.engine.model` runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from matching.engine import comparisons as cmp

__all__ = ["person_settings", "organisation_settings", "blocking", "PERSON_BLOCKING",
           "ORGANISATION_BLOCKING"]

#: Candidate pairs for persons: each rule is a list of columns equal on both sides.
#: The last five rules use columns only a Latin-script name or address fills
#: (features.py): they add no pairs among Chinese names and addresses.
PERSON_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("id_cleaned",),
    ("mobile",),
    ("name_pinyin", "birth_date"),
    ("name_plain", "birth_year"),
    ("given_name", "birth_date"),
    ("surname", "id_prefix"),
    ("email",),
    ("name_pinyin", "district"),
    ("name_lo", "name_hi"),
    ("name_lo", "birth_date"),
    ("name_hi", "birth_date"),
    ("birth_date", "address_last"),
    ("address_number", "address_last"),
)

#: Candidate pairs for organisations.
ORGANISATION_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("org_code_any",),
    ("org_core",),
    ("name_pinyin",),
    ("phone",),
    ("legal_rep", "city"),
    ("core_prefix", "city"),
)


def blocking(rules: Sequence[Sequence[str]]) -> list[BlockingRuleCreator | dict[str, Any]]:
    return [block_on(*cols) for cols in rules]


def person_settings(blocking_rules: Sequence[Sequence[str]] = PERSON_BLOCKING) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cmp.person_name(),
            cmp.resident_id(),
            cmp.birth_date(),
            cmp.gender(),
            cmp.mobile(),
            cmp.exact_or_else("email"),
            cmp.exact_or_else("phone", tf=True),
            cmp.address(),
        ],
        blocking_rules_to_generate_predictions=blocking(blocking_rules),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def organisation_settings(
    blocking_rules: Sequence[Sequence[str]] = ORGANISATION_BLOCKING,
) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cmp.org_core(),
            cmp.exact_or_else("org_region"),
            cmp.exact_or_else("org_legal_form"),
            cmp.exact_or_else("branch_state"),
            cmp.org_code(),
            cmp.legal_rep(),
            cmp.exact_or_else("phone", tf=True),
            cmp.address(),
        ],
        blocking_rules_to_generate_predictions=blocking(blocking_rules),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )
