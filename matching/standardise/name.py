"""Person names (姓名): one normalised form, a dot-free form, surname / given name
and a pinyin key.

Choices (the contract is silent on them):

* CJK names lose every space (``张 伟`` → ``张伟``) and are converted to
  simplified characters with OpenCC, repeated until stable (OpenCC ``t2s`` is
  not idempotent for a handful of characters, e.g. 薴 → 苧 → 苎).
* In a name holding CJK, every dot variant (``·・•‧･.．。`` …) is a name
  separator and becomes U+00B7 ``·``; runs collapse to one and a leading or
  trailing dot is dropped. ``name_plain`` is the name without dots and spaces.
* Latin names keep their order as keyed (``SMITH, John`` → ``smith john``):
  the order is ambiguous, so the comparator, not this module, deals with
  swapped parts. They are case-folded; dots and commas become spaces; hyphens
  and apostrophes stay in ``name`` and are dropped from ``name_plain``.
  "Latin" means any alphabetic, non-ideographic script.
* A name holding CJK and Latin letters is ``mixed``: spaces next to a CJK
  character go, Latin parts are case-folded.
* ``NAME_INVALID``: a character no name can hold (digit, bracket, symbol).
  The name is still returned normalised; surname and given name are then
  None, the pinyin key is built from the letters only.
* Surname: a compound surname (:data:`COMPOUND_SURNAMES`) when the name has
  at least three characters, else the first character. A two-character name
  is always surname + given name (欧阳 alone is read 欧 + 阳). Minority names
  (with ``·``) have no surname: given_name is the whole dot-free name. Latin
  names have neither (order unknown).
* Pinyin: tone-less, lower case, no spaces, ``ü`` written ``v`` (pypinyin's
  ``Style.NORMAL``). The surname is read with its surname reading from
  :data:`SURNAME_READINGS`, a table kept here rather than in config/ because
  it is linguistic fact, not an operator's setting (pypinyin 0.55 has no
  surname mode). Other characters use pypinyin's most common reading; a
  character pypinyin does not know stays as itself. For Latin letters the key
  is the letters with diacritics stripped (``Lü`` → ``lv``, ``José`` → ``jose``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from matching.standardise.issues import Issue
from matching.standardise.text import HAN_RANGES, collapse_spaces, to_halfwidth, to_simplified

__all__ = [
    "PersonName",
    "pinyin_key",
    "standardise_person_name",
    "COMPOUND_SURNAMES",
    "SINGLE_SURNAMES",
    "SURNAME_READINGS",
]

_DOT = "·"  # U+00B7
# Every dot a clerk or a font uses between the parts of a minority name. The
# full-width full stop U+FF0E is already "." after to_halfwidth.
_FOLD = str.maketrans(
    {
        "\u30fb": _DOT, "\u2022": _DOT, "\u2027": _DOT, "\uff65": _DOT, "\u2219": _DOT,
        "\u22c5": _DOT, "\u0387": _DOT, "\u2024": _DOT, "\u2e31": _DOT, "\u16eb": _DOT,
        "\u3002": ".", "\ufe52": ".", "\u2019": "'", "\u2018": "'", "\u3001": ",",
    }
)
_LATIN_SEPARATORS = str.maketrans({_DOT: " ", ".": " ", ",": " "})

# Ideographs a name may hold (shared with text.has_cjk).
_HAN = HAN_RANGES
_HAN_CHAR = re.compile(f"[{_HAN}]")
_CJK_NAME = re.compile(f"[{_HAN}{_DOT}]+")
# Ideographs only: no character that width folding, dot folding, trimming or
# space removal would touch.
_HAN_ONLY = re.compile(f"[{_HAN}]+")
_LATIN_NAME = re.compile(r"[a-z' -]+")
_SPACE_NEAR_HAN = re.compile(f" (?=[{_HAN}{_DOT}])|(?<=[{_HAN}{_DOT}]) ")
_DOT_RUN = re.compile(f"{_DOT}{{2,}}")
_LATIN_PUNCT = frozenset(" -'")
_DROP_SEPARATORS = str.maketrans("", "", f" -'{_DOT}")

#: Compound surnames (复姓) with their readings. A name of three or more
#: characters starting with one of these has it as its surname.
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ouyang", "司马": "sima", "上官": "shangguan", "诸葛": "zhuge",
    "东方": "dongfang", "皇甫": "huangfu", "尉迟": "yuchi", "公孙": "gongsun",
    "慕容": "murong", "长孙": "zhangsun", "宇文": "yuwen", "司徒": "situ",
    "夏侯": "xiahou", "轩辕": "xuanyuan", "令狐": "linghu", "钟离": "zhongli",
    "端木": "duanmu", "独孤": "dugu", "南宫": "nangong", "万俟": "moqi",
    "闻人": "wenren", "西门": "ximen", "百里": "baili", "呼延": "huyan",
    "东郭": "dongguo", "第五": "diwu", "申屠": "shentu", "太史": "taishi",
    "公羊": "gongyang", "澹台": "tantai", "赫连": "helian", "拓跋": "tuoba",
    "拓拔": "tuoba", "濮阳": "puyang", "淳于": "chunyu", "单于": "chanyu",
    "司空": "sikong", "亓官": "qiguan", "司寇": "sikou", "仉督": "zhangdu",
    "子车": "ziju", "颛孙": "zhuansun", "巫马": "wuma", "公西": "gongxi",
    "漆雕": "qidiao", "乐正": "yuezheng", "壤驷": "rangsi", "公良": "gongliang",
    "谷梁": "guliang", "宰父": "zaifu", "夹谷": "jiagu", "段干": "duangan",
    "微生": "weisheng", "梁丘": "liangqiu", "左丘": "zuoqiu", "东门": "dongmen",
    "羊舌": "yangshe", "鲜于": "xianyu", "闾丘": "lvqiu", "公冶": "gongye",
    "宗政": "zongzheng", "太叔": "taishu", "仲孙": "zhongsun", "叔孙": "shusun",
    "完颜": "wanyan", "耶律": "yelv", "归海": "guihai", "即墨": "jimo",
}

#: Single-character surnames whose surname reading is not (or not always)
#: pypinyin's most common reading of the character. Listed explicitly even
#: where pypinyin agrees today, so that a pypinyin upgrade cannot move them.
SINGLE_SURNAMES: dict[str, str] = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha",
    "朴": "piao", "盖": "ge", "乐": "yue", "缪": "miao", "覃": "qin", "员": "yun",
    "种": "chong", "折": "she", "召": "shao", "黑": "he", "隗": "wei", "翟": "zhai",
    "秘": "bi", "繁": "po", "宓": "fu", "任": "ren", "华": "hua", "那": "na",
    "纪": "ji", "过": "guo", "相": "xiang", "眭": "sui", "句": "gou", "阚": "kan",
    "祭": "zhai", "涂": "tu", "蓟": "ji", "燕": "yan", "冼": "xian", "铅": "yan",
    "能": "nai", "尉": "wei", "万": "wan", "长": "chang", "沈": "shen", "薄": "bo",
    "柏": "bai", "卜": "bu", "莘": "shen", "石": "shi", "朝": "chao", "宿": "su",
    "牟": "mou", "蕃": "pi", "粘": "nian", "行": "xing", "角": "jue", "都": "du",
    "和": "he", "阿": "a", "曲": "qu", "从": "cong", "贲": "ben", "便": "pian",
    "扁": "bian", "佴": "nai", "殷": "yin", "洗": "xian", "叶": "ye", "芮": "rui",
    "乜": "nie", "广": "guang", "逄": "pang", "逢": "feng", "睢": "sui", "臧": "zang",
    "炅": "gui", "贾": "jia", "盛": "sheng", "强": "qiang", "颉": "xie", "乘": "cheng",
    "冉": "ran", "谌": "chen", "甄": "zhen", "重": "chong", "藏": "zang", "莫": "mo",
    "尚": "shang", "褚": "chu", "车": "che", "陆": "lu", "吕": "lv",
    "闾": "lv", "厍": "she", "佘": "she", "亓": "qi", "仉": "zhang", "訾": "zi", "於": "yu",
}

#: Every surname reading, compound and single; this table wins over pypinyin.
SURNAME_READINGS: dict[str, str] = {**SINGLE_SURNAMES, **COMPOUND_SURNAMES}


@dataclass(frozen=True, slots=True, init=False)
class PersonName:
    name: str | None          # normalised name
    name_plain: str | None    # without dots, spaces, hyphens, apostrophes
    surname: str | None       # CJK non-minority names only
    given_name: str | None
    pinyin: str | None        # lower-case, tone-less, space-free key
    script: str | None        # "cjk" | "latin" | "mixed"
    issues: tuple[str, ...]

    def __init__(self, name: str | None, name_plain: str | None, surname: str | None,
                 given_name: str | None, pinyin: str | None, script: str | None,
                 issues: tuple[str, ...]) -> None:
        # What dataclass(frozen=True) would generate, except that each slot is set
        # through its descriptor, not object.__setattr__: 40% cheaper, once a record.
        (set_name, set_name_plain, set_surname, set_given_name,
         set_pinyin, set_script, set_issues) = _NAME_SLOTS
        set_name(self, name)
        set_name_plain(self, name_plain)
        set_surname(self, surname)
        set_given_name(self, given_name)
        set_pinyin(self, pinyin)
        set_script(self, script)
        set_issues(self, issues)


_NAME_SLOTS = tuple(getattr(PersonName, f.name).__set__ for f in fields(PersonName))


_EMPTY = PersonName(None, None, None, None, None, None, ())
#: Surnames OpenCC would fold into another one (於 → 于).
_SURNAMES_KEPT = frozenset("於")
#: A surname and a form of address, or a stand-in: what a clerk keys for a
#: customer whose name is not known. Kept for display; never compared.
_STAND_INS = ("先生", "女士", "小姐", "客户", "顾客", "不详", "未知", "无名氏")
_PLACEHOLDER = re.compile(
    f"(?:[{_HAN}]{{1,2}}(?:先生|女士|小姐|太太|夫人|师傅|老师|阿姨|老板|经理|某某|某)"
    f"|{'|'.join(_STAND_INS)})")
_PLACEHOLDER_ISSUE: tuple[str, ...] = (Issue.NAME_PLACEHOLDER,)
_INVALID: tuple[str, ...] = (Issue.NAME_INVALID,)
_NO_NAME = PersonName(None, None, None, None, None, None, _INVALID)


def standardise_person_name(raw: str | None) -> PersonName:
    """Normalise a person's name as keyed; never raises."""
    if raw is None:
        return _EMPTY
    raw = str(raw)
    if _HAN_ONLY.fullmatch(raw):  # the common case: every step up to OpenCC is a no-op
        return _han_name(raw, "cjk", True)
    text = to_halfwidth(raw).translate(_FOLD).strip()
    if not text:
        return _EMPTY
    if _HAN_CHAR.search(text):
        return _cjk_name(text)
    return _latin_name(text)


def _cjk_name(text: str) -> PersonName:
    text = text.replace(".", _DOT)
    compact = "".join(text.split())
    if _CJK_NAME.fullmatch(compact):  # the common case: ideographs and dots only
        text, script, valid = compact, "cjk", True
    else:
        text = collapse_spaces(text).casefold()
        if any(c.isalpha() and not _is_han(c) for c in text):
            text, script = _SPACE_NEAR_HAN.sub("", text), "mixed"
        else:
            text, script = text.replace(" ", ""), "cjk"
        valid = all(_is_han(c) or c == _DOT or _is_latin_char(c) for c in text)
    if _DOT in text:
        text = _DOT_RUN.sub(_DOT, text).strip(_DOT)
    return _han_name(text, script, valid)


def _han_name(text: str, script: str, valid: bool) -> PersonName:
    """The rest of :func:`_cjk_name`, from OpenCC on."""
    # 於 leading a name is the surname 於 (Yū), not the traditional form of 于
    # that OpenCC folds it to: 於丽 and 于丽 are two names.
    keep = text[0] if text[:1] in _SURNAMES_KEPT else ""
    text = keep + to_simplified(text[len(keep):])
    issues: tuple[str, ...] = () if valid else _INVALID
    if script == "mixed":
        plain = text.translate(_DROP_SEPARATORS)
        return PersonName(text, plain, None, None, _pinyin_key(plain), script, issues)
    if _DOT in text:  # a minority name: no surname in the Han sense
        plain = text.replace(_DOT, "")
        given = plain if valid else None
        return PersonName(text, plain, None, given, _pinyin_key(plain), script, issues)
    cut = 2 if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES else 1
    surname, given = text[:cut], text[cut:]
    if valid and _PLACEHOLDER.fullmatch(text):  # 张先生, 王女士, 李某: no one's name
        held = None if text in _STAND_INS else surname
        return PersonName(text, None, held, None, None, script, _PLACEHOLDER_ISSUE)
    reading = SURNAME_READINGS.get(surname)
    key = _pinyin_key(text) if reading is None else reading + _pinyin_key(given)
    if not valid:
        return PersonName(text, text, None, None, key, script, issues)
    return PersonName(text, text, surname, given or None, key, script, issues)


def _latin_name(text: str) -> PersonName:
    text = collapse_spaces(text.translate(_LATIN_SEPARATORS).casefold())
    if not text:  # only separators were keyed
        return _NO_NAME
    plain = text.translate(_DROP_SEPARATORS) or None
    if plain is not None and _LATIN_NAME.fullmatch(text):  # the common case: a-z only
        return PersonName(text, plain, None, None, plain, "latin", ())
    valid = all(_is_latin_char(c) for c in text)
    key = _pinyin_key(plain) if plain is not None else ""
    if not key:  # no letter at all
        return PersonName(text, plain, None, None, None, None, _INVALID)
    issues: tuple[str, ...] = () if valid else _INVALID
    return PersonName(text, plain, None, None, key, "latin", issues)


def _is_han(char: str) -> bool:
    return _HAN_CHAR.match(char) is not None


def _is_latin_char(char: str) -> bool:
    """May this character stand in a Latin name (letter, combining mark, separator)?"""
    if char in _LATIN_PUNCT:
        return True
    if _is_han(char):
        return False
    return char.isalpha() or unicodedata.category(char).startswith("M")


def pinyin_key(text: str) -> str:
    """Toneless pinyin of every character, lower case, no spaces; Latin letters
    folded; anything else dropped. Used for organisation name cores too."""
    return "".join(map(_char_pinyin, text))


_pinyin_key = pinyin_key


@lru_cache(maxsize=16384)
def _char_pinyin(char: str) -> str:
    """The key of one character: its pinyin, its folded Latin letter, or ""."""
    if _is_han(char):
        return str(lazy_pinyin(char, style=Style.NORMAL)[0]).lower()
    if char.isalpha():
        folded = unicodedata.normalize("NFKD", char.replace("ü", "v"))
        return "".join(c for c in folded if c.isalpha()).lower()
    return ""
