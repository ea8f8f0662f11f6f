"""Person names: table-driven cases with real Chinese names."""

from __future__ import annotations

import dataclasses
import inspect
import random
from typing import Any

import pytest

from matching.standardise.issues import Issue
from matching.standardise.name import (
    _FOLD,
    COMPOUND_SURNAMES,
    SURNAME_READINGS,
    PersonName,
    _cjk_name,
    standardise_person_name,
)
from matching.standardise.text import to_halfwidth

INVALID = (Issue.NAME_INVALID,)
PLACEHOLDER = (Issue.NAME_PLACEHOLDER,)

# raw → (name, name_plain, surname, given_name, pinyin, script, issues)
CASES: list[tuple[str | None, tuple[object, ...]]] = [
    # plain Han names, spaces, width, traditional characters
    ("张伟", ("张伟", "张伟", "张", "伟", "zhangwei", "cjk", ())),
    ("  张 伟 ", ("张伟", "张伟", "张", "伟", "zhangwei", "cjk", ())),
    ("张\u3000伟", ("张伟", "张伟", "张", "伟", "zhangwei", "cjk", ())),
    ("王 小 明", ("王小明", "王小明", "王", "小明", "wangxiaoming", "cjk", ())),
    ("張偉", ("张伟", "张伟", "张", "伟", "zhangwei", "cjk", ())),
    ("劉德華", ("刘德华", "刘德华", "刘", "德华", "liudehua", "cjk", ())),
    ("李\u200b娜", ("李娜", "李娜", "李", "娜", "lina", "cjk", ())),
    ("吕布", ("吕布", "吕布", "吕", "布", "lvbu", "cjk", ())),
    # compound surnames
    ("欧阳娜娜", ("欧阳娜娜", "欧阳娜娜", "欧阳", "娜娜", "ouyangnana", "cjk", ())),
    ("歐陽娜娜", ("欧阳娜娜", "欧阳娜娜", "欧阳", "娜娜", "ouyangnana", "cjk", ())),
    ("司马光", ("司马光", "司马光", "司马", "光", "simaguang", "cjk", ())),
    ("诸葛亮", ("诸葛亮", "诸葛亮", "诸葛", "亮", "zhugeliang", "cjk", ())),
    ("上官婉儿", ("上官婉儿", "上官婉儿", "上官", "婉儿", "shangguanwaner", "cjk", ())),
    ("尉迟恭", ("尉迟恭", "尉迟恭", "尉迟", "恭", "yuchigong", "cjk", ())),
    ("万俟卨", ("万俟卨", "万俟卨", "万俟", "卨", "moqixie", "cjk", ())),
    ("長孫無忌", ("长孙无忌", "长孙无忌", "长孙", "无忌", "zhangsunwuji", "cjk", ())),
    ("澹台灭明", ("澹台灭明", "澹台灭明", "澹台", "灭明", "tantaimieming", "cjk", ())),
    ("单于春", ("单于春", "单于春", "单于", "春", "chanyuchun", "cjk", ())),
    # 於 is a surname of its own (於丽 is not 于丽); elsewhere it folds as OpenCC says
    ("於丽", ("於丽", "於丽", "於", "丽", "yuli", "cjk", ())),
    ("於 麗", ("於丽", "於丽", "於", "丽", "yuli", "cjk", ())),
    ("于丽", ("于丽", "于丽", "于", "丽", "yuli", "cjk", ())),
    ("王於丽", ("王于丽", "王于丽", "王", "于丽", "wangyuli", "cjk", ())),
    # placeholders: kept for display, nothing to compare
    ("张先生", ("张先生", None, "张", None, None, "cjk", PLACEHOLDER)),
    ("張 先生", ("张先生", None, "张", None, None, "cjk", PLACEHOLDER)),
    ("王女士", ("王女士", None, "王", None, None, "cjk", PLACEHOLDER)),
    ("欧阳小姐", ("欧阳小姐", None, "欧阳", None, None, "cjk", PLACEHOLDER)),
    ("李某", ("李某", None, "李", None, None, "cjk", PLACEHOLDER)),
    ("李某某", ("李某某", None, "李", None, None, "cjk", PLACEHOLDER)),
    ("客户", ("客户", None, None, None, None, "cjk", PLACEHOLDER)),
    ("无名氏", ("无名氏", None, None, None, None, "cjk", PLACEHOLDER)),
    # names that only look like it
    ("王总", ("王总", "王总", "王", "总", "wangzong", "cjk", ())),
    ("张先生华", ("张先生华", "张先生华", "张", "先生华", "zhangxianshenghua", "cjk", ())),
    # two characters are always surname + given name, even 欧阳 / 单于
    ("欧阳", ("欧阳", "欧阳", "欧", "阳", "ouyang", "cjk", ())),
    ("单于", ("单于", "单于", "单", "于", "shanyu", "cjk", ())),
    # polyphonic surnames read with their surname reading
    ("单雄信", ("单雄信", "单雄信", "单", "雄信", "shanxiongxin", "cjk", ())),
    ("曾国藩", ("曾国藩", "曾国藩", "曾", "国藩", "zengguofan", "cjk", ())),
    ("解缙", ("解缙", "解缙", "解", "缙", "xiejin", "cjk", ())),
    ("仇英", ("仇英", "仇英", "仇", "英", "qiuying", "cjk", ())),
    ("区小英", ("区小英", "区小英", "区", "小英", "ouxiaoying", "cjk", ())),
    ("查良镛", ("查良镛", "查良镛", "查", "良镛", "zhaliangyong", "cjk", ())),
    ("朴槿惠", ("朴槿惠", "朴槿惠", "朴", "槿惠", "piaojinhui", "cjk", ())),
    ("盖聂", ("盖聂", "盖聂", "盖", "聂", "genie", "cjk", ())),
    ("翟志刚", ("翟志刚", "翟志刚", "翟", "志刚", "zhaizhigang", "cjk", ())),
    ("覃海洋", ("覃海洋", "覃海洋", "覃", "海洋", "qinhaiyang", "cjk", ())),
    ("缪可馨", ("缪可馨", "缪可馨", "缪", "可馨", "miaokexin", "cjk", ())),
    ("乐嘉", ("乐嘉", "乐嘉", "乐", "嘉", "yuejia", "cjk", ())),
    # ideographs beyond extension B (OpenCC output uses them) and 〇
    ("陈𫖯", ("陈𫖯", "陈𫖯", "陈", "𫖯", "chenfu", "cjk", ())),
    ("李𬌗", ("李𬌗", "李𬌗", "李", "𬌗", "lihe", "cjk", ())),
    ("張〇", ("张〇", "张〇", "张", "〇", "zhangling", "cjk", ())),
    # only the surname gets the surname reading: 单 inside the given name is dan
    ("王单", ("王单", "王单", "王", "单", "wangdan", "cjk", ())),
    # minority names: every dot variant → U+00B7, spaces around it dropped
    ("买买提·艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提・艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提•艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提‧艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提･艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提．艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提.艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提。艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提 · 艾力", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("买买提··艾力·", ("买买提·艾力", "买买提艾力", None, "买买提艾力", "maimaitiaili", "cjk", ())),
    ("阿沛·阿旺晋美", ("阿沛·阿旺晋美", "阿沛阿旺晋美", None, "阿沛阿旺晋美", "apeiawangjinmei",
                     "cjk", ())),
    # Latin names: case-folded, separators to single spaces, order as keyed
    ("  John   SMITH ", ("john smith", "johnsmith", None, None, "johnsmith", "latin", ())),
    ("SMITH, John", ("smith john", "smithjohn", None, None, "smithjohn", "latin", ())),
    ("J.R.R. Tolkien", ("j r r tolkien", "jrrtolkien", None, None, "jrrtolkien", "latin", ())),
    ("ＪＯＨＮ　ＳＭＩＴＨ", ("john smith", "johnsmith", None, None, "johnsmith", "latin", ())),
    ("O'Brien Jean-Pierre", ("o'brien jean-pierre", "obrienjeanpierre", None, None,
                             "obrienjeanpierre", "latin", ())),
    ("ZHANG Wei", ("zhang wei", "zhangwei", None, None, "zhangwei", "latin", ())),
    ("Lü Wei", ("lü wei", "lüwei", None, None, "lvwei", "latin", ())),
    ("José García", ("josé garcía", "joségarcía", None, None, "josegarcia", "latin", ())),
    # mixed scripts
    ("李 Lily", ("李lily", "李lily", None, None, "lilily", "mixed", ())),
    # names holding what no name holds: flagged, still normalised
    ("张三1", ("张三1", "张三1", None, None, "zhangsan", "cjk", INVALID)),
    ("张 三 (退保)", ("张三(退保)", "张三(退保)", None, None, "zhangsantuibao", "cjk", INVALID)),
    ("单某@", ("单某@", "单某@", None, None, "shanmou", "cjk", INVALID)),
    ("John Smith 2", ("john smith 2", "johnsmith2", None, None, "johnsmith", "latin", INVALID)),
    ("12345", ("12345", "12345", None, None, None, None, INVALID)),
    ("···", (None, None, None, None, None, None, INVALID)),
    # empty
    (None, (None, None, None, None, None, None, ())),
    ("", (None, None, None, None, None, None, ())),
    ("   \u3000 ", (None, None, None, None, None, None, ())),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_person_name(raw: str | None, expected: tuple[object, ...]) -> None:
    assert standardise_person_name(raw) == PersonName(*expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_person_name_is_idempotent(raw: str | None, expected: object) -> None:
    once = standardise_person_name(raw)
    assert standardise_person_name(once.name) == once or once.name is None


def test_opencc_chain_is_followed_to_a_fixed_point() -> None:
    # OpenCC t2s maps 薴 → 苧 and 苧 → 苎; one pass would not be idempotent.
    assert standardise_person_name("薴").name == "苎"
    # and t2s may answer with an extension-D ideograph, still a Han name
    once = standardise_person_name("餪")
    assert (once.name, once.script) == ("\U0002b5ec", "cjk")
    assert standardise_person_name(once.name) == once


def test_issue_codes_are_issue_members() -> None:
    issues = standardise_person_name("张三1").issues
    assert all(isinstance(i, Issue) for i in issues)


def test_surname_tables() -> None:
    required = (
        "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤 "
        "南宫 万俟 闻人 西门 百里 呼延 东郭 第五 申屠 太史 公羊 澹台 赫连 拓跋 濮阳 淳于 单于 司空 "
        "亓官 司寇 仉督 子车 颛孙 巫马 公西 漆雕 乐正 壤驷 公良 谷梁 宰父 夹谷 段干 微生 梁丘 左丘 "
        "东门 羊舌 鲜于 闾丘"
    ).split()
    assert set(required) <= set(COMPOUND_SURNAMES)
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES)
    assert all(r.isascii() and r.isalpha() and r.islower() for r in SURNAME_READINGS.values())
    for surname, reading in {"单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou",
                             "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun",
                             "单于": "chanyu", "繁": "po", "能": "nai"}.items():
        assert SURNAME_READINGS[surname] == reading


def test_han_only_fast_path_agrees_with_the_full_path() -> None:
    """A name of ideographs only skips folding, trimming and space removal:
    compare with the full path on random ideographs from every block
    (traditional, variants, extensions, compatibility, 〇) and the surnames."""
    rng = random.Random(11643)
    blocks = [(0x3007, 0x3007), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
              (0x20000, 0x2A6DF), (0x2B740, 0x2B81D), (0x30000, 0x3134A)]
    pool = "".join(COMPOUND_SURNAMES) + "".join(SURNAME_READINGS) + "張偉薴乾歐陽單于區"
    for _ in range(3000):
        chars = [chr(rng.randint(*rng.choice(blocks))) if rng.random() < 0.5 else rng.choice(pool)
                 for _ in range(rng.randrange(1, 6))]
        raw = "".join(chars)
        slow = _cjk_name(to_halfwidth(raw).translate(_FOLD).strip())
        assert standardise_person_name(raw) == slow, raw


def test_person_name_init_sets_every_field_and_stays_frozen() -> None:
    """PersonName.__init__ is written out by hand (slot descriptors, for speed): it
    must take the fields in order, set each, and leave the instance frozen."""
    names = [f.name for f in dataclasses.fields(PersonName)]
    assert list(inspect.signature(PersonName).parameters) == names
    values: list[Any] = [f"value {i}" for i in range(len(names))]
    made = PersonName(*values)
    assert [getattr(made, n) for n in names] == values
    assert made == PersonName(**dict(zip(names, values, strict=True)))
    assert hash(made) == hash(PersonName(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "x"  # type: ignore[misc]
