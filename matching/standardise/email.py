"""E-mail addresses (电子邮箱): trimmed, width-folded, lower-cased, validated.

Choices (the contract is silent on them):

* The whole address is lower-cased. The local part is case-sensitive in
  theory; no Chinese provider (qq.com, 163.com, 126.com, sina.com, …) treats
  it so, and matching needs one form.
* The ideographic full stop ``。`` and the full-width ``＠`` / ``．`` that a
  Chinese input method produces become ``.`` / ``@``.
* Valid: one ``@``; a dot-atom local part of at most 64 characters (letters,
  digits and ``!#$%&'*+/=?^_`{|}~-``, dots not leading, trailing or doubled);
  a domain of dot-separated labels of letters, digits and inner hyphens, with
  at least one dot and an alphabetic (or ``xn--``) top-level label; at most
  254 characters in all. No spaces, no quoted local parts, no IP-literal
  domains, no non-ASCII (internationalised addresses are not seen in practice).
* Typos such as ``qq.con`` are syntactically valid and kept: no guessing.
"""

from __future__ import annotations

import re

from matching.standardise.issues import Issue
from matching.standardise.text import to_halfwidth

__all__ = ["standardise_email"]

_FOLD = str.maketrans({"\u3002": ".", "\uff61": "."})
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})",
    re.ASCII,
)
_NONE: tuple[None, tuple[str, ...]] = (None, ())
_INVALID: tuple[None, tuple[str, ...]] = (None, (Issue.EMAIL_INVALID,))


def standardise_email(raw: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A keyed e-mail → (address, ()) or (None, (EMAIL_INVALID,)); empty → (None, ())."""
    if raw is None:
        return _NONE
    text = to_halfwidth(str(raw)).translate(_FOLD).strip().lower()
    if not text:
        return _NONE
    if len(text) > 254 or not _EMAIL.fullmatch(text) or text.index("@") > 64:
        return _INVALID
    return text, ()
