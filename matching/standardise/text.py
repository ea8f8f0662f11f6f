"""Character-level helpers shared by every field standardiser.

Width folding uses ``unicodedata`` NFKC restricted to the full-width block so
that CJK punctuation we care about (``·`` ``（）``) is handled explicitly;
traditional→simplified uses OpenCC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import opencc

__all__ = [
    "HAN_RANGES",
    "to_halfwidth",
    "to_simplified",
    "collapse_spaces",
    "is_cjk",
    "has_cjk",
    "clean_text",
    "simplified_in_advance",
]

# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E; the
# ideographic space U+3000 maps to a plain space.
_FULLWIDTH: dict[int, int | None] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
# Other blanks clerks paste in: no-break space, zero-width space and joiners, BOM.
_FULLWIDTH.update({0x00A0: 0x20, 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None})
_SPACES = re.compile(r"\s+")

#: Ideographs, as a regex character class body: the basic block, extensions A
#: to I, the compatibility blocks and 〇 (U+3007). OpenCC's simplified output
#: uses the late extensions (餪 → 𫗬, U+2B5EC), and so do real names.
HAN_RANGES = (
    "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002fa1f\U00030000-\U000323af"
)
_HAN = re.compile(f"[{HAN_RANGES}]")


# Exactly the characters _FULLWIDTH changes: most values hold none, and a
# regex search is ten times cheaper than the translate.
_WIDE = re.compile("[\uff01-\uff5e\u3000\u00a0\u200b-\u200d\ufeff]")


def to_halfwidth(text: str) -> str:
    """Fold full-width ASCII (digits, letters, punctuation) and odd blanks to ASCII."""
    return text.translate(_FULLWIDTH) if _WIDE.search(text) else text


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


#: to_simplified of texts converted in advance (see simplified_in_advance).
_AHEAD: dict[str, str] = {}
_PASSES = 3


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC ``t2s``), repeated until stable:
    one pass is not idempotent (薴 → 苧 → 苎). ``t2s`` never produces a
    full-width or ASCII character, so width folding may come before or after."""
    ahead = _AHEAD.get(text)
    if ahead is not None:
        return ahead
    if not has_cjk(text):
        return text
    for _ in range(_PASSES):
        converted = str(_t2s().convert(text))
        if converted == text:
            break
        text = converted
    return text


@contextmanager
def simplified_in_advance(texts: Iterable[str | None]) -> Iterator[None]:
    """Inside the block, :func:`to_simplified` of any of ``texts`` is answered from
    memory: computed beforehand for all of them together, one OpenCC call a pass
    over the texts joined by line breaks (no OpenCC phrase holds a line break, so
    a text converts alone as it does among the others). The batch path's
    standardisers call it once per distinct value; each call into OpenCC costs
    more than the conversion of a short text."""
    todo = [t for t in set(texts) if t and "\n" not in t and has_cjk(t)]
    current = list(todo)
    active = list(range(len(todo)))
    for _ in range(_PASSES):
        if not active:
            break
        converted = str(_t2s().convert("\n".join(current[i] for i in active))).split("\n")
        if len(converted) != len(active):  # cannot happen (see above): no shortcut then
            todo = []
            break
        changed = []
        for i, text in zip(active, converted, strict=True):
            if text != current[i]:
                current[i] = text
                changed.append(i)
        active = changed
    before = dict(_AHEAD)
    _AHEAD.update(zip(todo, current, strict=False))
    try:
        yield
    finally:
        _AHEAD.clear()
        _AHEAD.update(before)


def collapse_spaces(text: str) -> str:
    """Trim, and fold every run of white space to one ASCII space."""
    return _SPACES.sub(" ", text).strip()


def is_cjk(char: str) -> bool:
    """True for one ideograph (see HAN_RANGES)."""
    return _HAN.fullmatch(char) is not None


def has_cjk(text: str) -> bool:
    """True when ``text`` holds at least one ideograph."""
    return _HAN.search(text) is not None


def clean_text(raw: str | None) -> str | None:
    """The common first step of every field: None/blank → None, width folded,
    white space collapsed. Returns None when nothing is left."""
    if raw is None:
        return None
    text = collapse_spaces(to_halfwidth(str(raw)))
    return text or None
