"""Every error and trap kind occurs at its configured rate; records per customer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from matching.generator.core import GenerateSummary
from tests.generator.conftest import FLAT, read


def _within(applied: int, eligible: int, rate: float, sigmas: float = 5.0) -> bool:
    expected = rate * eligible
    return abs(applied - expected) <= sigmas * math.sqrt(eligible * rate * (1 - rate)) + 3


def test_every_error_kind_at_its_rate(flat: tuple[Path, GenerateSummary]) -> None:
    _, summary = flat
    for kind, applied in summary.error_counts.items():
        eligible = summary.error_eligible[kind]
        rate = getattr(FLAT, kind)
        assert eligible > 0, kind
        assert applied > 0, kind
        assert _within(applied, eligible, rate), (kind, applied, eligible, rate)


def test_tags_agree_with_the_summary(flat: tuple[Path, GenerateSummary]) -> None:
    out, summary = flat
    tags = read(out / "tags.csv")
    counted = tags["errors"].str.split(";").explode().value_counts()
    for kind, applied in summary.error_counts.items():
        assert counted.get(kind, 0) == applied, kind


def test_every_trap_kind_at_its_rate(flat: tuple[Path, GenerateSummary]) -> None:
    _, summary = flat
    for kind, members in summary.trap_entities.items():
        total = summary.organisations if kind in (
            "trap_legal_rep", "trap_branch", "trap_trade_name") else summary.persons
        rate = getattr(FLAT, kind)
        # Groups, not single customers, are drawn: allow for their size.
        assert members > 0, kind
        assert _within(members, total, rate, sigmas=12.0), (kind, members, total, rate)


def test_records_per_customer(flat: tuple[Path, GenerateSummary]) -> None:
    out, summary = flat
    truth = read(out / "truth.csv")
    per = truth.groupby("entity_id").size()
    weights = np.array(FLAT.records_per_entity) / sum(FLAT.records_per_entity)
    share = per.value_counts(normalize=True).sort_index()
    for k in (1, 2, 3, 4):
        assert abs(share.get(k, 0.0) - weights[k - 1]) < 0.015, k
    assert per.max() >= 8
    mean = float(np.dot(np.arange(1, len(weights) + 1), weights))
    assert abs(per.mean() - mean) / mean < 0.03
    assert summary.entities == per.size


def test_all_six_systems_and_no_api(flat: tuple[Path, GenerateSummary]) -> None:
    out, _ = flat
    day = read(out / "day_001.csv")
    assert set(day["source_system"]) == {"CORE", "UW", "CLAIM", "TELE", "FIN", "WEB"}
    assert set(day["customer_type"]) == {"P", "G"}
    assert 0.05 < (day["customer_type"] == "G").mean() < 0.12


def test_system_overrides_apply(nights: tuple[Path, GenerateSummary]) -> None:
    out, _ = nights
    day = pd.concat([read(out / f"day_00{d}.csv") for d in (1, 2, 3)])
    people = day[day["customer_type"] == "P"]
    missing = (people["id_number"] == "").groupby(people["source_system"]).mean()
    assert missing["TELE"] > 0.3 > missing["CORE"]
