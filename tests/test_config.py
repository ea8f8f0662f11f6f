"""Every code of every source system in CONTRACT.md §2 maps, and unknown codes don't crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.config import CodeMaps, load_code_maps
from matching.exceptions import ConfigError

# CONTRACT.md §2, copied literally: system -> (M, F, RESIDENT_ID, PASSPORT, USCC, ORG_CODE)
CONTRACT_TABLE = {
    "CORE": ("1", "2", "0", "1", "8", "7"),
    "UW": ("M", "F", "01", "02", "51", "52"),
    "CLAIM": ("男", "女", "身份证", "护照", "统一社会信用代码", "组织机构代码"),
    "TELE": ("1", "0", "I", "P", "U", "O"),
    "FIN": ("M", "F", "01", "02", "51", "52"),
    "WEB": ("male", "female", "ID_CARD", "PASSPORT", "USCC", "ORG_CODE"),
}
STANDARD_ID_TYPES = ["RESIDENT_ID", "PASSPORT", "MILITARY", "HK_MACAO_PASS", "TAIWAN_PASS",
                     "FOREIGN_PR", "USCC", "ORG_CODE", "BUSINESS_LICENSE", "OTHER"]


@pytest.mark.parametrize("system", sorted(CONTRACT_TABLE))
def test_every_contract_code_maps(codes: CodeMaps, system: str) -> None:
    m, f, rid, passport, uscc, org = CONTRACT_TABLE[system]
    assert codes.gender(system, m) == ("M", True)
    assert codes.gender(system, f) == ("F", True)
    assert codes.id_type(system, rid) == ("RESIDENT_ID", True)
    assert codes.id_type(system, passport) == ("PASSPORT", True)
    assert codes.id_type(system, uscc) == ("USCC", True)
    assert codes.id_type(system, org) == ("ORG_CODE", True)


@pytest.mark.parametrize("code", STANDARD_ID_TYPES)
def test_api_takes_standard_id_types(codes: CodeMaps, code: str) -> None:
    assert codes.id_type("API", code) == (code, True)


@pytest.mark.parametrize("gender", ["M", "F", "U"])
def test_api_takes_standard_genders(codes: CodeMaps, gender: str) -> None:
    assert codes.gender("API", gender) == (gender, True)


@pytest.mark.parametrize(
    ("system", "kind", "code", "expected"),
    [
        ("CORE", "gender", "9", ("U", False)),
        ("CORE", "id_type", "99", ("OTHER", False)),
        ("CLAIM", "id_type", "军官证", ("OTHER", False)),
        ("NOPE", "gender", "M", ("U", False)),     # unknown system: nothing maps
        ("TELE", "gender", "", ("U", True)),       # empty = unknown, not an issue
        ("TELE", "id_type", "  ", (None, True)),
        ("WEB", "gender", "MALE", ("M", True)),    # case-insensitive fallback
    ],
)
def test_unknown_and_empty_codes(codes: CodeMaps, system: str, kind: str, code: str,
                                 expected: tuple[str | None, bool]) -> None:
    assert getattr(codes, kind)(system, code) == expected


def test_a_new_system_is_a_config_edit(tmp_path: Path) -> None:
    (tmp_path / "codes.yaml").write_text(
        "standard: {gender: [M, F, U], id_type: [RESIDENT_ID, OTHER]}\n"
        "systems:\n  BANCA:\n    gender: {'01': M, '02': F}\n    id_type: {A: RESIDENT_ID}\n",
        encoding="utf-8",
    )
    maps = load_code_maps(tmp_path)
    assert maps.gender("BANCA", "02") == ("F", True)
    assert maps.id_type("BANCA", "A") == ("RESIDENT_ID", True)


def test_a_bad_standard_code_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "codes.yaml").write_text(
        "standard: {gender: [M, F, U], id_type: [OTHER]}\n"
        "systems:\n  X:\n    gender: {'1': MALE}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'MALE'"):
        load_code_maps(tmp_path)


def test_missing_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_code_maps(tmp_path)
