"""The latin-noid profile: what it writes, checked in the data it wrote."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest

from matching.config import DEFAULT_CONFIG_DIR
from matching.generator.latin import LatinParams, generate_latin
from matching.standardise.name import standardise_person_name


@pytest.fixture(scope="module")
def latin(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = tmp_path_factory.mktemp("latin")
    generate_latin(out, records=20_000, seed=4)
    data = pd.read_csv(out / "day_001.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False)
    return data.merge(truth, on=["source_system", "source_customer_id"]), truth


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate_latin(tmp_path / "a", records=2000, seed=9)
    generate_latin(tmp_path / "b", records=2000, seed=9)
    generate_latin(tmp_path / "c", records=2000, seed=10)
    for name in ("day_001.csv", "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "day_001.csv").read_bytes() != (
        tmp_path / "c" / "day_001.csv").read_bytes()


def test_no_ids_or_phones_latin_names_place_and_postcode(
        latin: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, truth = latin
    assert len(data) == len(truth) == 20_000
    assert (data[["id_type", "id_number", "mobile", "phone", "email", "legal_rep"]] == "")\
        .all().all()
    assert (data["customer_type"] == "P").all()
    assert data["name"].str.fullmatch(r"[A-Za-z ,'-]+").all()
    addresses = data.loc[data["address"] != "", "address"]
    assert addresses.str.fullmatch(r"[A-Za-z ]+ [0-9]{5}").all()
    assert set(data["source_system"]) == {"CORE", "UW", "CLAIM", "TELE", "FIN", "WEB"}


def _words(name: str) -> set[str]:
    return set(str(standardise_person_name(name).name).split())


def test_nicknames_and_initials_are_in_the_data(
        latin: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Records of one customer whose given names differ, one a nickname (Bill /
    William) or an initial of the other: checked against nicknames' own table."""
    from nicknames import NickNamer

    namer = NickNamer()
    data, _ = latin
    nick = initial = 0
    for _, group in data.groupby("entity_id"):
        names = [_words(n) for n in group["name"]]
        for a in names:
            for b in names:
                if any(len(x) == 1 and any(y.startswith(x) and len(y) > 1 for y in b)
                       for x in a - b):
                    initial += 1
                if any(y in namer.nicknames_of(x) for x in a - b for y in b - a):
                    nick += 1
    assert nick > 300 and initial > 150


def test_twins_of_the_other_sex_share_birth_date_and_home(
        latin: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Different customers, one surname, birth date and address, genders apart."""
    data, _ = latin
    data = data.assign(last=data["name"].map(lambda n: max(_words(n), key=len)))
    known = data[(data["birth_date"] != "") & (data["address"] != "")
                 & data["gender"].isin(["M", "F", "1", "2", "男", "女", "0", "male", "female"])]
    groups = known.groupby(["birth_date", "address"])["entity_id"].nunique()
    shared = groups[groups > 1]
    assert len(shared) > 20


@pytest.mark.parametrize("kind", ["initial", "name_order", "place_missing", "birth_missing"])
def test_error_rates_in_the_data(latin: tuple[pd.DataFrame, pd.DataFrame], kind: str) -> None:
    data, _ = latin
    n = len(data)
    rate = getattr(LatinParams(), kind)
    counted = {
        "initial": data["name"].str.contains(r"(?:^| )[A-Za-z](?:$| |,)").sum(),
        "name_order": data["name"].str.contains(",").sum(),  # half of them: Smith, William
        "place_missing": (data["address"] == "").sum(),
        "birth_missing": (data["birth_date"] == "").sum(),
    }[kind]
    expected = rate * n * (0.5 if kind == "name_order" else 1)  # half keyed with a comma
    assert abs(counted - expected) <= 5 * math.sqrt(n * rate) + 3, (kind, counted, expected)


def test_docs_list_every_rate_with_its_default() -> None:
    doc = (DEFAULT_CONFIG_DIR.parent / "docs" / "generator.md").read_text(encoding="utf-8")
    for f in fields(LatinParams):
        rows = [line for line in doc.splitlines() if line.startswith(f"| `{f.name}` |")]
        assert rows, f"docs/generator.md has no row for {f.name}"
        assert f"| {f.default:g} |" in rows[-1], rows[-1]
