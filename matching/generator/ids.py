"""Identifiers built whole arrays at a time: resident IDs (GB 11643), the
organisation code (GB 11714) and the USCC (GB 32100), passports, mobiles.

Check digits are computed with numpy over whole blocks; the tests check
every one against python-stdnum (``ric.is_valid``, ``uscc.is_valid``) and
the organisation-code rule of GB 11714.

:class:`IntSet` keeps every resident-ID body and organisation code issued so
far (int64 keys, open addressing) so that two different customers never get
the same number, however many blocks are generated: at 10M records it holds
about 6M keys in at most 256 MB.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "IntSet",
    "ric_strings",
    "ric_body",
    "org_code_chars",
    "uscc_strings",
    "org_code_strings",
    "mobile_numbers",
    "passport_numbers",
    "ORG_ALPHABET",
]

_RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_RIC_CHECK = np.array(list("10X98765432"))
#: Characters of the USCC (GB 32100): digits and capitals without I O Z S V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Characters an organisation code may use inside a USCC.
ORG_ALPHABET = USCC_ALPHABET
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
_ASCII_TO_USCC = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _ASCII_TO_USCC[ord(_c)] = _i
_ASCII_TO_GB11714 = np.full(128, -1, dtype=np.int64)
for _c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ASCII_TO_GB11714[ord(_c)] = int(_c, 36)

#: Mobile prefixes (3 digits) phonenumbers accepts in full, with weights.
MOBILE_PREFIXES: tuple[tuple[int, float], ...] = (
    (130, 3), (131, 3), (132, 3), (133, 3), (135, 5), (136, 5), (137, 5), (138, 6), (139, 6),
    (150, 3), (151, 3), (152, 3), (153, 2), (155, 2), (156, 2), (157, 2), (158, 3), (159, 3),
    (166, 1), (173, 1), (175, 1), (176, 1), (177, 1), (178, 1), (180, 2), (181, 2), (182, 2),
    (183, 2), (184, 1), (185, 2), (186, 2), (187, 2), (188, 2), (189, 2), (191, 1), (198, 1),
    (199, 1),
)
_MOBILE_PREFIX = np.array([p for p, _ in MOBILE_PREFIXES], dtype=np.int64)
_MOBILE_WEIGHT = np.array([w for _, w in MOBILE_PREFIXES], dtype=np.float64)
_MOBILE_WEIGHT /= _MOBILE_WEIGHT.sum()


class IntSet:
    """A growing set of positive int64 keys, added a whole array at a time."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._table = np.zeros(capacity, dtype=np.int64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, keys: np.ndarray) -> np.ndarray:
        """Add ``keys`` (all > 0); returns a mask of those NOT added because the
        key was already in the set or earlier in ``keys``."""
        keys = np.asarray(keys, dtype=np.int64)
        if (self._size + len(keys)) * 2 > len(self._table):
            self._grow(self._size + len(keys))
        rejected = np.ones(len(keys), dtype=bool)
        _, first = np.unique(keys, return_index=True)
        rejected[first] = False
        pending = np.flatnonzero(~rejected)
        mask = len(self._table) - 1
        slot = self._hash(keys[pending]) & mask
        while pending.size:
            current = self._table[slot]
            found = current == keys[pending]
            rejected[pending[found]] = True
            empty = current == 0
            # Several pending keys may want one empty slot: the first claims it,
            # the others look at the same slot again (now taken) next round.
            claim_at = np.flatnonzero(empty)
            _, winners = np.unique(slot[claim_at], return_index=True)
            won = claim_at[winners]
            self._table[slot[won]] = keys[pending[won]]
            done = found.copy()
            done[won] = True
            moving = ~empty & ~found
            slot[moving] = (slot[moving] + 1) & mask
            pending, slot = pending[~done], slot[~done]
        self._size += int((~rejected).sum())
        return rejected

    @staticmethod
    def _hash(keys: np.ndarray) -> np.ndarray:
        mixed = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return (mixed >> np.uint64(17)).astype(np.int64)

    def _grow(self, needed: int) -> None:
        capacity = len(self._table)
        while needed * 2 > capacity:
            capacity *= 2
        old = self._table[self._table != 0]
        self._table = np.zeros(capacity, dtype=np.int64)
        self._size = 0
        if old.size:
            self.add(old)


def ric_body(area: np.ndarray, year: np.ndarray, month: np.ndarray, day: np.ndarray,
             seq: np.ndarray) -> np.ndarray:
    """The first 17 digits of resident IDs as int64."""
    date = year.astype(np.int64) * 10000 + month * 100 + day
    return area.astype(np.int64) * 10**11 + date * 1000 + seq


def ric_strings(body: np.ndarray) -> list[str]:
    """18-character resident IDs from their 17-digit bodies (GB 11643 check digit)."""
    rest = body.astype(np.int64).copy()
    total = np.zeros(len(rest), dtype=np.int64)
    for i in range(16, -1, -1):
        total += (rest % 10) * _RIC_WEIGHTS[i]
        rest //= 10
    checks = _RIC_CHECK[total % 11].tolist()
    return [f"{b:017d}{c}" for b, c in zip(body.tolist(), checks, strict=True)]


def org_code_chars(rng: np.random.Generator, n: int, new_share: float = 0.3) -> np.ndarray:
    """``n`` organisation-code bodies (8 characters) as an (n, 8) uint8 ASCII array:
    digits for old codes, ``MA`` + six characters for codes issued since 2015."""
    digits = np.frombuffer(b"0123456789", dtype=np.uint8)
    alpha = np.frombuffer(ORG_ALPHABET.encode(), dtype=np.uint8)
    out = digits[rng.integers(0, 10, size=(n, 8))]
    new = rng.random(n) < new_share
    k = int(new.sum())
    if k:
        tail = alpha[rng.integers(0, len(alpha), size=(k, 6))]
        out[new] = np.hstack([np.tile(np.frombuffer(b"MA", dtype=np.uint8), (k, 1)), tail])
    return out


def org_code_key(chars: np.ndarray) -> np.ndarray:
    """Positive int64 keys of organisation-code bodies (base 36)."""
    values = _ASCII_TO_GB11714[chars]
    key = np.zeros(len(chars), dtype=np.int64)
    for i in range(chars.shape[1]):
        key = key * 36 + values[:, i]
    return key + 1


def _org_check(chars: np.ndarray) -> np.ndarray:
    """GB 11714 check characters (uint8 ASCII) of (n, 8) bodies."""
    total = (_ASCII_TO_GB11714[chars] * _ORG_WEIGHTS).sum(axis=1)
    c = 11 - total % 11
    out = (c + ord("0")).astype(np.uint8)
    out[c == 10] = ord("X")
    out[c == 11] = ord("0")
    return out


def _full_org_code(chars: np.ndarray) -> np.ndarray:
    return np.hstack([chars, _org_check(chars)[:, None]])


def org_code_strings(chars: np.ndarray) -> list[str]:
    """9-character organisation codes (body + GB 11714 check character)."""
    full = np.ascontiguousarray(_full_org_code(chars))
    return [b.decode() for b in full.view("S9").ravel().tolist()]


def uscc_strings(chars: np.ndarray, area: np.ndarray, head: bytes = b"91") -> list[str]:
    """18-character USCCs: ``head`` (registration authority and entity type),
    the 6-digit area code, the organisation code and the GB 32100 check."""
    n = len(chars)
    area_chars = np.frombuffer(
        "".join(f"{a:06d}" for a in area.tolist()).encode(), dtype=np.uint8).reshape(n, 6)
    body = np.hstack([
        np.tile(np.frombuffer(head, dtype=np.uint8), (n, 1)), area_chars, _full_org_code(chars),
    ])
    total = (_ASCII_TO_USCC[body] * _USCC_WEIGHTS).sum(axis=1)
    check = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)[(31 - total % 31) % 31]
    full = np.ascontiguousarray(np.hstack([body, check[:, None]]))
    return [b.decode() for b in full.view("S18").ravel().tolist()]


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` CN mobile numbers as int64 (11 digits)."""
    prefix = _MOBILE_PREFIX[rng.choice(len(_MOBILE_PREFIX), size=n, p=_MOBILE_WEIGHT)]
    return prefix * 10**8 + rng.integers(0, 10**8, size=n)


def passport_numbers(rng: np.random.Generator, n: int, chinese: np.ndarray) -> list[str]:
    """Passport numbers: ``E`` + 8 digits for Chinese citizens; for others one
    of the common layouts (letter + 8 digits, 2 letters + 7 digits, 9 digits)."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    layout = rng.integers(0, 3, size=n).tolist()
    first = rng.integers(0, len(letters), size=(n, 2)).tolist()
    number = rng.integers(0, 10**9, size=n).tolist()
    out = []
    for is_cn, kind, (a, b), num in zip(chinese.tolist(), layout, first, number, strict=True):
        if is_cn:
            out.append(f"E{num % 10**8:08d}")
        elif kind == 0:
            out.append(f"{letters[a]}{num % 10**8:08d}")
        elif kind == 1:
            out.append(f"{letters[a]}{letters[b]}{num % 10**7:07d}")
        else:
            out.append(f"{num:09d}")
    return out
