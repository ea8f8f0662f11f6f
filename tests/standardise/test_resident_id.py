"""Resident IDs (GB 11643) and other ID numbers: table-driven cases."""

from __future__ import annotations

import dataclasses
import inspect
import random
from datetime import date, timedelta
from typing import Any

import pytest
from stdnum import numdb
from stdnum.cn import ric

from matching.standardise.issues import Issue
from matching.standardise.resident_id import (
    ResidentId,
    _known_areas,
    standardise_other_id,
    standardise_resident_id,
)


def with_check(body17: str) -> str:
    """The test oracle: python-stdnum's GB 11643 check digit appended."""
    return body17 + ric.calc_check_digit(body17 + "0")


GOOD = "11010519491231002X"  # the example in GB 11643-1999 itself


def valid(number: str, birth: str, gender: str, issues: tuple[str, ...] = ()) -> ResidentId:
    return ResidentId(number, number, True, birth, gender, number[:6], issues)


def invalid(cleaned: str | None, *issues: str) -> ResidentId:
    return ResidentId(None, cleaned, False, None, None, None, tuple(issues))


CASES: list[tuple[str | None, ResidentId]] = [
    # literal known-good numbers
    (GOOD, valid(GOOD, "1949-12-31", "F")),
    ("360426199101010071", valid("360426199101010071", "1991-01-01", "M")),
    ("440301198507150018", valid("440301198507150018", "1985-07-15", "M")),
    # as keyed: lower-case x, full-width, hyphens, spaces, tabs
    ("11010519491231002x", valid(GOOD, "1949-12-31", "F")),
    ("１１０１０５１９４９１２３１００２Ｘ", valid(GOOD, "1949-12-31", "F")),
    ("１１０１０５１９４９１２３１００２ｘ", valid(GOOD, "1949-12-31", "F")),
    ("110105-19491231-002X", valid(GOOD, "1949-12-31", "F")),
    (" 110105 19491231 002X ", valid(GOOD, "1949-12-31", "F")),
    ("110105\t1949\u300012310 02X", valid(GOOD, "1949-12-31", "F")),
    ("110105－19491231－002X", valid(GOOD, "1949-12-31", "F")),
    # 15-digit legacy IDs are widened
    ("110105491231002", valid(GOOD, "1949-12-31", "F", (Issue.ID_LEGACY_15,))),
    ("110105 491231 002", valid(GOOD, "1949-12-31", "F", (Issue.ID_LEGACY_15,))),
    ("440301850715001", valid("440301198507150018", "1985-07-15", "M", (Issue.ID_LEGACY_15,))),
    ("110105490230002", invalid(with_check("11010519490230002"),
                                Issue.ID_LEGACY_15, Issue.ID_DATE_INVALID)),
    ("000000491231002", invalid(with_check("00000019491231002"),
                                Issue.ID_LEGACY_15, Issue.ID_AREA_INVALID)),
    # wrong check digit
    ("110105194912310021", invalid("110105194912310021", Issue.ID_CHECKSUM)),
    ("11010519491231002", invalid("11010519491231002", Issue.ID_FORMAT)),
    # impossible, too early or future birth dates with a correct check digit
    (with_check("11010519490230002"), invalid(with_check("11010519490230002"),
                                              Issue.ID_DATE_INVALID)),
    (with_check("11010519851301002"), invalid(with_check("11010519851301002"),
                                              Issue.ID_DATE_INVALID)),
    ("440524188001010014", invalid("440524188001010014", Issue.ID_DATE_INVALID)),
    # areas: unknown → invalid; retired and placeholder codes stay valid
    (with_check("00000019491231002"), invalid(with_check("00000019491231002"),
                                              Issue.ID_AREA_INVALID)),
    (with_check("99999919491231002"), invalid(with_check("99999919491231002"),
                                              Issue.ID_AREA_INVALID)),
    (with_check("11999919491231002"), invalid(with_check("11999919491231002"),
                                              Issue.ID_AREA_INVALID)),
    (with_check("11010319800101001"), valid(with_check("11010319800101001"), "1980-01-01", "M")),
    (with_check("11010019800101001"), valid(with_check("11010019800101001"), "1980-01-01", "M")),
    (with_check("11011519800101001"), valid(with_check("11011519800101001"), "1980-01-01", "M")),
    # every fault at once
    ("000000194902300020", invalid("000000194902300020", Issue.ID_CHECKSUM,
                                   Issue.ID_DATE_INVALID, Issue.ID_AREA_INVALID)),
    # wrong length or characters
    ("1101051949123100", invalid("1101051949123100", Issue.ID_FORMAT)),
    ("1101051949123100211", invalid("1101051949123100211", Issue.ID_FORMAT)),
    ("11010519491231X021", invalid("11010519491231X021", Issue.ID_FORMAT)),
    ("11010549123100X", invalid("11010549123100X", Issue.ID_FORMAT)),
    ("身份证11010519491231002X", invalid("身份证11010519491231002X", Issue.ID_FORMAT)),
    ("E12345678", invalid("E12345678", Issue.ID_FORMAT)),
    # empty
    (None, invalid(None)),
    ("", invalid(None)),
    (" - ", invalid(None)),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_resident_id(raw: str | None, expected: ResidentId) -> None:
    assert standardise_resident_id(raw) == expected


def test_future_birth_date_is_invalid() -> None:
    """Tomorrow is read when the test runs (a run crossing midnight once judged
    a collection-time "tomorrow" that had become today)."""
    tomorrow = (date.today() + timedelta(days=1)).strftime("%Y%m%d")
    number = with_check(f"110105{tomorrow}002")
    assert standardise_resident_id(number) == invalid(number, Issue.ID_DATE_INVALID)
    today = date.today()
    number = with_check(f"110105{today:%Y%m%d}002")
    assert standardise_resident_id(number) == valid(number, today.isoformat(), "F")


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_resident_id_is_idempotent(raw: str | None, expected: ResidentId) -> None:
    once = standardise_resident_id(raw)
    if once.number is not None:
        again = standardise_resident_id(once.number)
        assert again.number == once.number
        assert again.issues == tuple(i for i in once.issues if i != Issue.ID_LEGACY_15)
    if once.cleaned is not None:
        assert standardise_resident_id(once.cleaned).cleaned == once.cleaned


@pytest.mark.parametrize("position", range(17))
def test_any_one_digit_typo_breaks_the_check_digit(position: int) -> None:
    typo = GOOD[:position] + str((int(GOOD[position]) + 1) % 10) + GOOD[position + 1:]
    result = standardise_resident_id(typo)
    assert not result.valid
    assert result.issues[0] == Issue.ID_CHECKSUM


@pytest.mark.parametrize("position", range(16))
def test_any_adjacent_swap_breaks_the_check_digit(position: int) -> None:
    body = "51012319870613025"  # no two equal neighbours, so every swap changes it
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2:]
    assert standardise_resident_id(swapped + ric.calc_check_digit(body + "0")).issues[0] == (
        Issue.ID_CHECKSUM
    )


def test_check_digit_x_and_gender() -> None:
    # Sequence 002 is even (female); 001 odd (male); check digits 0-9 and X all occur.
    seen = set()
    for seq in range(100, 140):
        number = with_check(f"44030119850715{seq:03d}")
        result = standardise_resident_id(number)
        assert result.valid, number
        assert result.gender == ("M" if seq % 2 else "F")
        seen.add(number[-1])
    assert "X" in seen and len(seen) == 11


def test_agrees_with_stdnum_on_valid_numbers() -> None:
    for body in ("11010519491231002", "36042619910101007", "65010219900307123"):
        number = with_check(body)
        assert standardise_resident_id(number).valid == ric.is_valid(number)


OTHER_CASES: list[tuple[str | None, str | None]] = [
    ("E12345678", "E12345678"),
    (" e1234 5678 ", "E12345678"),
    ("Ｇ１２３４５６７８", "G12345678"),
    ("H-1234-5678", "H12345678"),
    ("A123456(7)", "A1234567"),
    ("军字第2001.123/45号", "军字第200112345号"),
    ("P.R. 88 / 001", "PR88001"),
    (None, None),
    ("", None),
    (" - / . ", None),
]


@pytest.mark.parametrize(("raw", "expected"), OTHER_CASES)
def test_standardise_other_id(raw: str | None, expected: str | None) -> None:
    assert standardise_other_id(raw) == expected
    if expected is not None:
        assert standardise_other_id(expected) == expected


def _in_stdnum_table(area: str) -> bool:
    """The area rule as python-stdnum states it (one numdb lookup, ~150 µs)."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(area))


def test_known_areas_agree_with_stdnum_table() -> None:
    """The set of area codes, built once by walking the table, against the
    table's own lookup: every member, and random codes."""
    areas = _known_areas()
    assert len(areas) > 5000
    assert all(_in_stdnum_table(area) for area in areas)
    rng = random.Random(11643)
    provinces = sorted({area[:2] for area in areas})
    codes = [rng.choice(provinces) + f"{rng.randrange(10_000):04d}" for _ in range(2000)]
    codes += [f"{rng.randrange(1_000_000):06d}" for _ in range(500)]
    codes += [f"{int(area) + step:06d}" for area in rng.sample(sorted(areas), 300)
              for step in (-1, 1)]
    for code in codes:
        assert (code in areas) == _in_stdnum_table(code), code


def test_resident_id_init_sets_every_field_and_stays_frozen() -> None:
    """ResidentId.__init__ is written out by hand (slot descriptors, for speed): it
    must take the fields in order, set each, and leave the instance frozen."""
    names = [f.name for f in dataclasses.fields(ResidentId)]
    assert list(inspect.signature(ResidentId).parameters) == names
    values: list[Any] = [f"value {i}" for i in range(len(names))]
    made = ResidentId(*values)
    assert [getattr(made, n) for n in names] == values
    assert made == ResidentId(**dict(zip(names, values, strict=True)))
    assert hash(made) == hash(ResidentId(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.number = "x"  # type: ignore[misc]
