from __future__ import annotations

import numpy as np

from matching.generator import names
from matching.generator.dirt import FULLWIDTH_DIGITS
from matching.generator.ids import IntSet
from matching.generator.orgs import INDUSTRIES, TRADE_CHARS
from matching.generator.params import GeneratorParams
from matching.generator.people import make_people
from matching.generator.person_rows import _DOT_VARIANTS
from matching.generator.places import districts
from matching.generator.typos import gbk_ok, homophones, lookalikes, traditional


def test_every_generated_character_is_gbk() -> None:
    pools = [s for s, _ in names.SURNAMES] + list(names.TAIL_SURNAMES) + list(
        names.COMPOUND_SURNAMES) + [g for g, _, _ in names.COMMON_GIVEN] + [
        names.MALE_CHARS, names.FEMALE_CHARS, TRADE_CHARS, *INDUSTRIES, *names.UYGHUR_MALE,
        *names.UYGHUR_FEMALE, *names.OTHER_MINORITY_MALE, *names.OTHER_MINORITY_FEMALE, "·號（）"]
    assert all(gbk_ok(p) for p in pools)
    for table in (homophones(), lookalikes()):
        assert all(gbk_ok(k + "".join(v)) for k, v in table.items())
    assert all(gbk_ok(traditional(c)) for p in pools for c in p)
    assert all(gbk_ok(v) for v in _DOT_VARIANTS)
    assert all(gbk_ok(chr(c)) for c in FULLWIDTH_DIGITS.values() if isinstance(c, int))


def test_surname_shares_are_close_to_the_published_ones() -> None:
    people = make_people(np.random.default_rng(3), 50_000, GeneratorParams(), districts(),
                         IntSet())
    first = np.array([str(n)[:1] for n in people.name])
    for surname in "王李张":
        assert abs((first == surname).mean() - 0.07) < 0.015, surname
    assert 0.04 < (first == "刘").mean() < 0.065
    compound = np.array([str(n)[:2] in names.COMPOUND_SURNAMES for n in people.name]).mean()
    assert 0.004 < compound < 0.02
    dotted = np.array(["·" in str(n) for n in people.name]).mean()
    assert 0.005 < dotted < 0.02


def test_given_names_repeat_heavily() -> None:
    people = make_people(np.random.default_rng(4), 20_000, GeneratorParams(), districts(),
                         IntSet())
    _, counts = np.unique(people.name, return_counts=True)
    assert counts.max() > 20                 # 张伟-style names
    assert (counts[counts > 1].sum() / len(people.name)) > 0.3


def test_homophones_sound_alike() -> None:
    assert "玮" in homophones()["伟"]
    assert "已" in lookalikes()["己"]


def test_traditional_names_keep_surnames_written_alike() -> None:
    """于丽 keyed in traditional characters is 于麗: 於 is another surname."""
    from matching.generator.typos import traditional_name
    from matching.standardise.name import standardise_person_name

    assert traditional_name("于丽") == "于麗"
    assert traditional_name("张伟") == "張偉"
    assert standardise_person_name(traditional_name("于丽")).name_plain == "于丽"
