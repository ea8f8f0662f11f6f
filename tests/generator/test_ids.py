"""Every identifier meant to be valid is valid."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import phonenumbers
from stdnum.cn import ric, uscc

from matching.config import load_code_maps
from matching.generator.core import GenerateSummary
from tests.generator.conftest import read

_ID_ERRORS = {"id_typo", "id_transpose", "uscc_typo", "org_code_typo", "passport_typo",
              "id_type_unmapped"}


def _gb11714(code: str) -> bool:
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(code[:8], weights, strict=True)) % 11
    return code[8] == {10: "X", 11: "0"}.get(c, str(c))


def _joined(out: Path) -> pd.DataFrame:
    days = pd.concat([read(p).assign(day=p.stem[-1]) for p in sorted(out.glob("day_*.csv"))])
    tags = read(out / "tags.csv")
    rows = days.merge(tags, on=["source_system", "source_customer_id", "day"], validate="1:1")
    return rows[rows["update"] == "0"]


def test_every_true_id_is_valid(nights: tuple[Path, GenerateSummary]) -> None:
    out, _ = nights
    rows = _joined(out)
    counts = {"ric": 0, "uscc": 0, "org": 0}
    for ctype, value in zip(rows["customer_type"], rows["clean_id"], strict=True):
        if ctype == "P" and len(value) == 18:
            assert ric.is_valid(value), value
            counts["ric"] += 1
        elif ctype == "G" and len(value) == 18:
            assert uscc.is_valid(value), value
            counts["uscc"] += 1
        elif ctype == "G":
            assert _gb11714(value), value
            counts["org"] += 1
    assert min(counts.values()) > 30, counts


def test_keyed_ids_without_typos_are_valid(nights: tuple[Path, GenerateSummary]) -> None:
    out, _ = nights
    rows = _joined(out)
    codes = load_code_maps()
    clean = rows[(rows["id_number"] != "") & rows["errors"].map(
        lambda e: not set(e.split(";")) & _ID_ERRORS)]
    checked = {"RESIDENT_ID": 0, "USCC": 0, "ORG_CODE": 0}
    for system, id_type, number in zip(clean["source_system"], clean["id_type"],
                                       clean["id_number"], strict=True):
        std, _ = codes.id_type(system, id_type)
        text = "".join(number.split()).replace("-", "").upper()
        text = text.translate(str.maketrans("０１２３４５６７８９Ｘ", "0123456789X"))
        if std == "RESIDENT_ID":
            if len(text) == 15:  # legacy: widen as GB 11643 says
                body = text[:6] + "19" + text[6:]
                text = body + ric.calc_check_digit(body + "0")
            assert ric.is_valid(text), number
        elif std == "USCC":
            assert uscc.is_valid(text), number
        elif std == "ORG_CODE":
            assert _gb11714(text), number
        else:
            continue
        checked[std] += 1
    assert min(checked.values()) > 30, checked


def test_typos_break_the_check_digit(nights: tuple[Path, GenerateSummary]) -> None:
    out, _ = nights
    rows = _joined(out)
    typo = rows[rows["errors"].str.contains("id_typo|id_transpose") & ~rows["errors"].str.contains(
        "legacy|fullwidth|separators|lower_x")]
    assert len(typo) > 3
    assert not any(ric.is_valid(x) for x in typo["id_number"])


def test_mobiles_and_landlines_are_real_numbers(nights: tuple[Path, GenerateSummary]) -> None:
    out, _ = nights
    rows = _joined(out)
    mobiles = rows["mobile"][rows["mobile"] != ""].str.replace(r"[ \-+]", "", regex=True)
    mobiles = mobiles.str.replace(r"^(0086|86)(?=1\d{10}$)", "", regex=True)
    for number in mobiles.iloc[:3000]:
        parsed = phonenumbers.parse(number, "CN")
        assert phonenumbers.is_valid_number(parsed), number
    phones = rows[(rows["phone"] != "") & ~rows["errors"].str.contains("phone_no_area_code")]
    assert len(phones) > 300
    for number in phones["phone"].iloc[:3000]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")), number
