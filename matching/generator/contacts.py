"""Landlines and e-mail addresses."""

from __future__ import annotations

from functools import cache

import numpy as np
from pypinyin import Style, lazy_pinyin

from matching.generator.places import Districts

__all__ = ["landlines", "emails_for_people", "emails_for_orgs", "pinyin"]

_DOMAINS = ("163.com", "126.com", "sina.com", "sohu.com", "hotmail.com", "gmail.com", "yeah.net")
_FOREIGN_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com")


@cache
def _char_pinyin(char: str) -> str:
    return "".join(lazy_pinyin(char, style=Style.NORMAL)).replace("ü", "v")


def pinyin(text: str) -> str:
    """Tone-less pinyin of ``text`` without spaces (张伟 → zhangwei), read
    character by character (names have no words to segment)."""
    return "".join(_char_pinyin(c) for c in text)


def landlines(rng: np.random.Generator, places: Districts, district: np.ndarray) -> np.ndarray:
    """Local landline numbers (without area code) valid for each district's code."""
    n = len(district)
    out = np.empty(n, dtype=object)
    rest = rng.integers(0, 10**7, n).tolist()
    pick = rng.integers(0, 1 << 20, n).tolist()
    for i, d in enumerate(district.tolist()):
        firsts, length = places.subscriber[d]
        out[i] = firsts[pick[i] % len(firsts)] + f"{rest[i]:07d}"[: length - 1]
    return out


def emails_for_people(rng: np.random.Generator, name: np.ndarray, surname: np.ndarray,
                      foreign: np.ndarray, year: np.ndarray, mobile: np.ndarray) -> np.ndarray:
    """One address per person: QQ numbers, pinyin names, mobile-number mailboxes."""
    n = len(name)
    out = np.empty(n, dtype=object)
    style = rng.random(n).tolist()
    qq = rng.integers(10**5, 3 * 10**9, n).tolist()
    digits = rng.integers(0, 1000, n).tolist()
    domain = rng.integers(0, len(_DOMAINS), n).tolist()
    fdomain = rng.integers(0, len(_FOREIGN_DOMAINS), n).tolist()
    years, mobiles = year.tolist(), mobile.tolist()
    for i in range(n):
        nm = str(name[i])
        if foreign[i]:
            out[i] = nm.lower().replace(" ", ".") + "@" + _FOREIGN_DOMAINS[fdomain[i]]
        elif style[i] < 0.4 or not surname[i]:
            out[i] = f"{qq[i]}@qq.com"
        elif style[i] < 0.75:
            tail = "" if digits[i] < 300 else str(digits[i]) if digits[i] < 700 else str(years[i])
            out[i] = f"{pinyin(nm)}{tail}@{_DOMAINS[domain[i]]}"
        elif style[i] < 0.9:
            out[i] = f"{mobiles[i]}@{'139.com' if domain[i] % 2 else '163.com'}"
        else:
            initials = "".join(_char_pinyin(c)[:1] for c in nm)
            out[i] = f"{initials}{years[i]}@{_DOMAINS[domain[i]]}"
    return out


def emails_for_orgs(rng: np.random.Generator, trade: np.ndarray) -> np.ndarray:
    """One address per organisation: a mailbox at its own domain, or QQ / 163."""
    n = len(trade)
    out = np.empty(n, dtype=object)
    style = rng.random(n).tolist()
    qq = rng.integers(10**5, 3 * 10**9, n).tolist()
    box = ("info", "hr", "service", "admin", "sales", "finance")
    which = rng.integers(0, len(box), n).tolist()
    for i in range(n):
        py = pinyin(str(trade[i]))
        if style[i] < 0.5:
            tld = "com.cn" if style[i] < 0.25 else "com"
            out[i] = f"{box[which[i]]}@{py}.{tld}"
        elif style[i] < 0.8:
            out[i] = f"{qq[i]}@qq.com"
        else:
            out[i] = f"{py}{qq[i] % 1000}@163.com"
    return out
