"""The truth file covers every record once; traps are different customers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matching.generator.core import GenerateSummary
from matching.generator.ids import IntSet
from matching.generator.orgs import make_orgs
from matching.generator.params import GeneratorParams
from matching.generator.people import make_people
from matching.generator.places import districts
from matching.generator.writer import CONTRACT_COLUMNS
from tests.generator.conftest import read


def test_truth_covers_every_record_once(nights: tuple[Path, GenerateSummary]) -> None:
    out, summary = nights
    days = pd.concat([read(out / f"day_00{d}.csv") for d in (1, 2, 3)])
    truth = read(out / "truth.csv")
    assert list(truth.columns) == ["source_system", "source_customer_id", "entity_id"]
    assert not truth.duplicated(["source_system", "source_customer_id"]).any()
    keys = set(zip(days["source_system"], days["source_customer_id"], strict=True))
    assert keys == set(zip(truth["source_system"], truth["source_customer_id"], strict=True))
    assert len(truth) == summary.source_records
    assert truth["entity_id"].str.fullmatch(r"[PG]\d{8}").all()


def test_contract_columns_and_exact_row_count(nights: tuple[Path, GenerateSummary]) -> None:
    out, summary = nights
    for d in (1, 2, 3):
        assert tuple(read(out / f"day_00{d}.csv").columns) == CONTRACT_COLUMNS
    assert sum(summary.records_per_day) == 6_000


def test_key_layouts(nights: tuple[Path, GenerateSummary]) -> None:
    out, _ = nights
    truth = read(out / "truth.csv")
    layout = {"CORE": r"C\d{10}", "UW": r"UW\d{12}", "CLAIM": r"CL\d{10}", "TELE": r"8\d{11}",
              "FIN": r"F\d{9}", "WEB": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"}
    for system, pattern in layout.items():
        keys = truth["source_customer_id"][truth["source_system"] == system]
        assert len(keys) and keys.str.fullmatch(pattern).all(), system


def test_inadmissible_and_unmapped_rows_are_in_truth(flat: tuple[Path, GenerateSummary]) -> None:
    out, _ = flat
    day = read(out / "day_001.csv")
    truth = read(out / "truth.csv")
    empty = day[day["name"] == ""]
    assert len(empty) > 20
    merged = empty.merge(truth, on=["source_system", "source_customer_id"])
    assert len(merged) == len(empty)


def test_person_traps_are_different_people() -> None:
    people = make_people(np.random.default_rng(8), 20_000, GeneratorParams(), districts(),
                         IntSet())
    g = people.groups
    f, lead = g.members["trap_twins"]
    assert len(f) > 20
    assert (people.surname[f] == people.surname[lead]).all()
    assert (people.year[f] == people.year[lead]).all() and (people.day[f] == people.day[lead]).all()
    assert (people.mobile[f] == people.mobile[lead]).all()
    assert (people.streets.street[f] == people.streets.street[lead]).all()
    assert (people.id_number[f] != people.id_number[lead]).all()
    assert all(str(a)[:14] == str(b)[:14] for a, b in zip(people.id_number[f],
                                                         people.id_number[lead], strict=True))
    f, lead = g.members["trap_household"]
    assert (people.surname[f] == people.surname[lead]).all()
    assert (people.mobile[f] == people.mobile[lead]).all()
    assert (people.name[f] != people.name[lead]).mean() > 0.9
    f, lead = g.members["trap_namesake"]
    assert (people.name[f] == people.name[lead]).all()
    assert (people.year[f] == people.year[lead]).all()
    places = districts()
    assert (places.city_key[people.district[f]] == places.city_key[people.district[lead]]).all()
    assert len(set(people.id_number)) == len(people.id_number)


def test_org_traps_are_different_companies() -> None:
    orgs = make_orgs(np.random.default_rng(9), 20_000, GeneratorParams(), districts(), IntSet())
    g = orgs.groups
    places = districts()
    f, lead = g.members["trap_branch"]
    assert len(f) > 50
    for a, b in zip(f.tolist(), lead.tolist(), strict=True):
        branch, head = orgs.registered_name(a), orgs.registered_name(b)
        assert branch.startswith(head) and branch.endswith("分公司")
    f, lead = g.members["trap_trade_name"]
    assert (orgs.trade[f] == orgs.trade[lead]).all()
    assert (places.city_key[orgs.district[f]] != places.city_key[orgs.district[lead]]).all()
    f, lead = g.members["trap_legal_rep"]
    assert (orgs.legal_rep[f] == orgs.legal_rep[lead]).all()
    assert len(set(orgs.uscc)) == len(orgs.uscc)
