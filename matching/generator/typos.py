"""Character tables for the typos clerks make: homophones, look-alikes and
traditional forms.

* Homophones are what a pinyin input method offers for the same syllable:
  characters of :data:`IME_POOL` (every name character the generator uses
  plus common characters) grouped by tone-less pinyin (pypinyin), so 伟 can
  become 玮 炜 威 维 薇 … — the slip of picking the wrong candidate.
* Look-alikes (形近字) are a small hand-made table of pairs.
* Traditional forms come from OpenCC ``s2t``, character by character, kept
  only where they differ and GBK can encode them (so GBK output never has to
  replace a character).

Everything is built once per process (``lru_cache``).
"""

from __future__ import annotations

from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

from matching.generator import names

__all__ = ["homophones", "lookalikes", "traditional", "gbk_ok", "to_traditional", "IME_POOL"]

#: Extra common characters that an input method offers beside the name
#: characters (enough that most syllables have a second candidate).
IME_POOL: str = (
    "卫魏威薇玮炜韦维方芬纳闽民鸣铭婧靖晶京景莉俪立励蔷蕾君钧骏峻扬阳杨洋咏泳涌彦雁炎颜"
    "捷洁鹃韬滔潮侠夏萍苹钢桦骅宏鸿虹洪弘琳凌菱龄灵铃晖慧惠锋丰枫彬滨斌冰昊皓豪雨语羽玉"
    "宇馨芯欣鑫亭庭廷婷雯闻文智志帼国健剑建嘉家佳宜仪艺怡依辰晨臣睿锐瑞蕊梓紫子姿晗寒涵"
    "萱宣璇轩斯丝思诗施梦孟萌琦淇祺琪亚雅娅泽朋彭鹏楷恺凯章彰汪旺黎丽柳刘程成诚承沈申"
    "良亮舟洲周邹邓登"
)

#: Look-alike pairs (形近字); both directions are used.
_LOOKALIKE_PAIRS: tuple[str, ...] = (
    "己已", "己巳", "未末", "土士", "日曰", "人入", "千干", "天夭", "戊戍", "戍戌", "候侯",
    "贝见", "免兔", "拨拔", "辨辩", "鸟乌", "即既", "晴睛", "玲珍", "娟涓", "婷停", "宇字",
    "明朋", "涵函", "怡恰", "瑞端", "琪淇", "锋峰", "梅海", "李季", "郝赫", "王玉", "大太",
    "崇祟", "侍待", "冶治", "栗粟", "亳毫", "刺剌", "茶荼", "折拆", "徽微", "晖挥", "霞暇",
    "洁浩", "斌赋", "红江", "军车", "兰半", "杨扬", "汤扬", "萍苹", "燕蒸", "辉挥",
    "健键", "静净", "秀季", "凤风", "莉利", "桂柱", "英央", "勇甬", "磊垒", "凯剀", "鹏朋",
    "博搏", "彬杉", "荣荥", "颖颍", "倩债", "晶品", "慧彗", "琳淋", "丹舟", "华毕", "霖淋",
)


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def gbk_ok(text: str) -> bool:
    """Can GBK encode ``text``?"""
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _name_chars() -> set[str]:
    chars = set(IME_POOL) | set(names.TAIL_SURNAMES)
    chars |= {s for s, _ in names.SURNAMES}
    chars |= set(names.MALE_CHARS) | set(names.FEMALE_CHARS) | set(names.UNISEX_CHARS)
    for given, _, _ in names.COMMON_GIVEN:
        chars |= set(given)
    for compound in names.COMPOUND_SURNAMES:
        chars |= set(compound)
    for pool in (names.UYGHUR_MALE, names.UYGHUR_FEMALE, names.OTHER_MINORITY_MALE,
                 names.OTHER_MINORITY_FEMALE):
        for name in pool:
            chars |= set(name)
    return chars


@lru_cache(maxsize=1)
def homophones() -> dict[str, tuple[str, ...]]:
    """Character → the other characters of the pool with its tone-less pinyin."""
    groups: dict[str, list[str]] = {}
    for char in sorted(_name_chars()):
        groups.setdefault(lazy_pinyin(char, style=Style.NORMAL)[0], []).append(char)
    out: dict[str, tuple[str, ...]] = {}
    for group in groups.values():
        for char in group:
            others = tuple(c for c in group if c != char)
            if others:
                out[char] = others
    return out


@lru_cache(maxsize=1)
def lookalikes() -> dict[str, tuple[str, ...]]:
    """Character → its look-alikes."""
    out: dict[str, list[str]] = {}
    for pair in _LOOKALIKE_PAIRS:
        a, b = pair[0], pair[1]
        if a == b:
            continue
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


@lru_cache(maxsize=65536)
def traditional(char: str) -> str:
    """The GBK-encodable traditional form of one character, or the character itself."""
    trad = str(_s2t().convert(char))
    return trad if len(trad) == 1 and trad != char and gbk_ok(trad) else char


def to_traditional(text: str) -> str:
    """``text`` with every character that has a traditional form converted."""
    return "".join(traditional(c) for c in text)


#: Surnames written the same in traditional characters: OpenCC's character-level
#: s2t gives another word (于 → 於, which is another surname; 余 → 餘, 范 → 範).
SURNAMES_SAME_IN_TRADITIONAL = frozenset("于余范岳涂游党")


def traditional_name(name: str) -> str:
    """A person's name keyed in traditional characters, the surname as a clerk
    writes it (于丽 → 于麗, never 於麗)."""
    if name[:1] in SURNAMES_SAME_IN_TRADITIONAL:
        return name[0] + to_traditional(name[1:])
    return to_traditional(name)
