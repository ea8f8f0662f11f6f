"""Error injection: deciding which records get which error, and the
character-level edits themselves.

:class:`Dirt` draws every error kind for a whole set of records at once
(one uniform per record and kind, compared with the kind's rate for the
record's system), counts the records the kind could apply to and those it
was applied to, and keeps the masks when a side file of tags is asked for.
"""

from __future__ import annotations

import numpy as np

from matching.config import CodeMaps
from matching.generator.params import SOURCE_SYSTEMS, GeneratorParams
from matching.generator.typos import homophones

__all__ = [
    "Dirt",
    "swap_char",
    "insert_space",
    "code_table",
    "unmapped_codes",
    "format_mobile",
    "change_char",
    "FULLWIDTH_DIGITS",
]

FULLWIDTH_DIGITS = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
_GENDER_JUNK = ("9", "U", "未知", "X", "3", "N")
_ID_TYPE_JUNK = ("99", "其他", "Z", "OTHER", "08", "9")


class Dirt:
    """Error draws for ``len(system)`` records of one type."""

    def __init__(self, rng: np.random.Generator, params: GeneratorParams, system: np.ndarray,
                 keep_masks: bool) -> None:
        self.rng = rng
        self.params = params
        self.system = system
        self.n = len(system)
        self.applied: dict[str, int] = {}
        self.eligible: dict[str, int] = {}
        self.masks: dict[str, np.ndarray] | None = {} if keep_masks else None

    def rates(self, kind: str) -> np.ndarray:
        table = np.array([self.params.rate(kind, s) for s in SOURCE_SYSTEMS])
        return table[self.system]

    def presence(self, field: str) -> np.ndarray:
        """Which records hold a field that systems fill only sometimes (not an error)."""
        return self.rng.random(self.n) < self.rates(field)

    def draw(self, kind: str, eligible: np.ndarray | None = None) -> np.ndarray:
        """Records that get error ``kind`` (only among ``eligible`` ones)."""
        hit = self.rng.random(self.n) < self.rates(kind)
        if eligible is not None:
            hit &= eligible
        elig = self.n if eligible is None else int(eligible.sum())
        self.eligible[kind] = self.eligible.get(kind, 0) + elig
        self.applied[kind] = self.applied.get(kind, 0) + int(hit.sum())
        if self.masks is not None:
            self.masks[kind] = hit
        return hit

    def ints(self) -> list[int]:
        """One random non-negative int per record, for choices inside an edit."""
        return self.rng.integers(0, 1 << 30, self.n).tolist()


def swap_char(text: str, table: dict[str, tuple[str, ...]], pick: int, start: int = 0) -> str:
    """Replace one character (at or after ``start``) that ``table`` knows by one
    of its alternatives; the text unchanged when none is known."""
    places = [i for i in range(start, len(text)) if text[i] in table]
    if not places:
        return text
    i = places[pick % len(places)]
    options = table[text[i]]
    return text[:i] + options[(pick >> 8) % len(options)] + text[i + 1:]


def has_homophone(text: str) -> bool:
    table = homophones()
    return any(c in table for c in text)


def insert_space(text: str, pick: int) -> str:
    """A stray space: inside, or trailing, or an ideographic space inside."""
    if len(text) < 2:
        return text + " "
    style = pick % 4
    at = 1 + (pick >> 2) % (len(text) - 1)
    if style == 3:
        return text + " "
    return text[:at] + ("\u3000" if style == 2 else " ") + text[at:]


def change_char(text: str, pick: int, alphabet: str, stop: int) -> str:
    """Replace the character at a position below ``stop`` by another of ``alphabet``."""
    i = pick % min(stop, len(text))
    options = alphabet.replace(text[i], "")
    return text[:i] + options[(pick >> 5) % len(options)] + text[i + 1:]


def format_mobile(number: str, country: int, separators: int) -> str:
    """A mobile as keyed: country code (0 none, 1 +86␣, 2 +86, 3 86, 4 0086) and
    separators (0 none, 1 hyphens 3-4-4, 2 spaces 3-4-4)."""
    if separators == 1:
        number = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    elif separators == 2:
        number = f"{number[:3]} {number[3:7]} {number[7:]}"
    return ("", "+86 ", "+86", "86", "0086")[country] + number


def code_table(codes: CodeMaps, kind: str, standards: tuple[str, ...]) -> np.ndarray:
    """(system index, standard index) → the system's own code."""
    return np.array([[codes.source_code(s, kind, std) for std in standards]
                     for s in SOURCE_SYSTEMS], dtype=object)


def unmapped_codes(codes: CodeMaps, kind: str) -> list[tuple[str, ...]]:
    """Per system, plausible codes its table does NOT hold (compared the way the
    standardiser compares: as keyed, upper- and lower-cased)."""
    junk = _GENDER_JUNK if kind == "gender" else _ID_TYPE_JUNK
    out = []
    for s in SOURCE_SYSTEMS:
        table = getattr(codes.systems[s], kind)
        free = tuple(c for c in junk
                     if c not in table and c.upper() not in table and c.lower() not in table)
        out.append(free or ("??",))
    return out
