"""Organisations: names (机构名称) and identifiers (统一社会信用代码 USCC,
组织机构代码 organisation code).

Choices (the brief is silent on them):

* Characters: full-width folded, traditional → simplified, ASCII upper-cased,
  spaces dropped except between two ASCII letters/digits, quotes dropped.
  Brackets of every kind become ASCII ``()``: what ``to_halfwidth`` already
  makes of ``（）``, one byte, and the usual form in registries' exports.
* ``name`` is that cleaned full name, region, legal form and branch left as
  keyed: the display and exact-comparison form. ``core``/``region``/
  ``legal_form``/``branch`` are the parts fuzzy comparison works on.
* ``legal_form`` canonical values: ``有限责任公司`` (有限公司 is the same LLC
  under the Company Law; the statutory term wins), ``股份有限公司`` (also
  股份公司, 股份有限责任公司), ``公司`` (a bare 公司 / 总公司: an enterprise
  registered without a Company-Law form), ``有限合伙``, ``普通合伙``,
  ``特殊普通合伙``, ``合伙企业`` (partnership, kind unsaid) and ``个人独资企业``.
  ``集团`` is no legal form: it stays in the core, ``(集团)`` losing its brackets.
* ``region`` is a short name (深圳, 北京, 广东, 内蒙古): from a bracket before the
  legal form (``腾讯科技(深圳)``; ``(中国)`` gives 中国) or else from the front,
  where short forms count without backing (``北京百度…``). Of a front
  province + city + district, the city (a municipality for its districts) is
  the region, else the province, else the district. The front region leaves the
  core only if three characters remain: 北京银行 keeps core 北京银行.
* ``branch``: a name ending in a branch marker (分公司 支公司 中心支公司 分行 支行
  分理处 办事处 营业部 营业所 分店 代表处 分所 分社 分厂, also in brackets) has
  the branch from after the last legal form to the end; without a legal form,
  from after the last organisation word (银行 保险 证券 …), else from the
  first region name, else the marker alone. Region names leading the branch
  are shortened (深圳市分公司 → 深圳分公司, 北京市朝阳区支行 → 北京朝阳支行).
* A name without any letter gets ``NAME_INVALID`` and None fields.
* Identifiers: see :func:`standardise_uscc` and :func:`standardise_org_code`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import mul

from matching.standardise.address import (
    drop_spaces,
    match_regions,
    place_index,
    region_short_name,
)
from matching.standardise.issues import Issue
from matching.standardise.text import to_halfwidth, to_simplified

__all__ = [
    "OrgName",
    "OrgId",
    "standardise_org_name",
    "standardise_uscc",
    "standardise_org_code",
    "org_code_check_digit",
    "uscc_check_digit",
]


@dataclass(frozen=True, slots=True)
class OrgName:
    name: str | None        # normalised full name
    core: str | None        # trade name + industry words, without region/legal form/branch
    region: str | None      # short form: 深圳, 北京, 广东
    legal_form: str | None  # canonical legal form
    branch: str | None      # e.g. 深圳分公司, 北京朝阳支行
    issues: tuple[str, ...]


_EMPTY_NAME = OrgName(None, None, None, None, None, ())
_INVALID_NAME = OrgName(None, None, None, None, None, (Issue.NAME_INVALID,))

_LEGAL_FORMS = {
    "股份有限责任公司": "股份有限公司", "股份有限公司": "股份有限公司", "股份公司": "股份有限公司",
    "有限责任公司": "有限责任公司", "有限公司": "有限责任公司",
    "(特殊普通合伙)": "特殊普通合伙", "特殊普通合伙企业": "特殊普通合伙",
    "(普通合伙)": "普通合伙", "普通合伙企业": "普通合伙",
    "(有限合伙)": "有限合伙", "有限合伙企业": "有限合伙", "有限合伙": "有限合伙",
    "合伙企业": "合伙企业", "(个人独资)": "个人独资企业", "个人独资企业": "个人独资企业",
    "总公司": "公司", "公司": "公司",
}
# A bare 公司 is no legal form inside 分公司 / 支公司.
_FORMS = "|".join("(?<![分支])公司" if f == "公司" else re.escape(f)
                  for f in sorted(_LEGAL_FORMS, key=len, reverse=True))
_LEGAL_END = re.compile(f"(?:{_FORMS})$")
_LONGEST_FORM = max(map(len, _LEGAL_FORMS))
_LEGAL_ANY = re.compile(_FORMS)
_BRANCH_END = re.compile(
    r"(?:中心支公司|分公司|支公司|分行|支行|分理处|办事处|营业部|营业所|分店|代表处|分所|分社|分厂)\)?$"
)
_ORG_WORD = re.compile("银行|保险|证券|信托|基金|期货|集团|控股|信用社|合作社|事务所")
_BRACKET = re.compile(r"\(([^()]*)\)")
_OPEN = re.compile(r"[\[{【〔〖]")
_CLOSE = re.compile(r"[\]}】〕〗]")
_QUOTES = re.compile("[\"'`“”‘’「」『』《》]")
_BLANK = re.compile(r"\s")
_LETTER = re.compile(r"[^\W\d_]")


def _clean_name(raw: str) -> str:
    text = _QUOTES.sub("", to_simplified(to_halfwidth(raw)).upper())
    text = _CLOSE.sub(")", _OPEN.sub("(", text))
    return drop_spaces(text) if _BLANK.search(text) else text


def standardise_org_name(raw: str | None) -> OrgName:
    """Normalise an organisation's name and split it into its parts; never raises."""
    if raw is None:
        return _EMPTY_NAME
    name = _clean_name(str(raw))
    if not name:
        return _EMPTY_NAME
    if _LETTER.search(name) is None:
        return _INVALID_NAME
    body, branch = _split_branch(name)
    head, legal_form = body, None
    m = _LEGAL_END.search(body, max(0, len(body) - _LONGEST_FORM))
    if m is not None:
        head, legal_form = body[:m.start()], _LEGAL_FORMS[m.group()]
    core, region = _split_region(head)
    return OrgName(name, core or None, region, legal_form, branch, ())


def _split_branch(name: str) -> tuple[str, str | None]:
    """(the name without its branch part, the branch part)."""
    marker = _BRANCH_END.search(name, max(0, len(name) - 6))
    if marker is None:
        return name, None
    if name.endswith(")"):  # XX有限公司(深圳分公司)
        opening = name.rfind("(")
        if opening <= 0:
            return name, None
        name = name[:opening] + name[opening + 1:-1]
        marker = _BRANCH_END.search(name)
        if marker is None:
            return name, None
    before = name[:marker.start()]
    forms = list(_LEGAL_ANY.finditer(before))
    if forms:
        cut = forms[-1].end()
    else:
        words = list(_ORG_WORD.finditer(before))
        cut = words[-1].end() if words else _first_region(before)
    if cut <= 0:
        return name, None
    return name[:cut], _short_regions(name[cut:].replace("(", "").replace(")", ""))


def _first_region(text: str) -> int:
    """Where the first region name after the start begins, else the text's end."""
    ix = place_index()
    tables = (ix.prov_full, ix.prov_short, ix.city_full, ix.city_short, ix.dist_full)
    for pos in range(1, len(text) - 1):
        if any(t.longest(text, pos) is not None for t in tables):
            return pos
    return len(text)


def _short_regions(text: str) -> str:
    """Region names leading ``text`` in their short form: 深圳市分公司 → 深圳分公司."""
    found = match_regions(text, lenient=True)
    if not found.keyed:
        return text
    return "".join(region_short_name(k[3]) for k in found.keyed) + text[found.end:]


def _split_region(head: str) -> tuple[str, str | None]:
    """(core, region) of the name before its legal form."""
    region = None
    shorts = place_index().shorts
    if "(" in head:
        parts = []
        last = 0
        for m in _BRACKET.finditer(head):
            content = m.group(1)
            parts.append(head[last:m.start()])
            if content == "中国" or content in shorts:  # a region: dropped from the core
                region = region or shorts.get(content, content)
            else:
                parts.append(content)
            last = m.end()
        parts.append(head[last:])
        head = "".join(parts).replace("(", "").replace(")", "")
    front = match_regions(head, lenient=True)
    if front.keyed:
        if region is None:
            levels = {k[2]: k[3] for k in front.keyed}
            if front.province is not None and front.province == front.city:  # municipality
                levels.setdefault("city", front.province)
            name = levels.get("city") or levels.get("province") or levels["district"]
            region = region_short_name(name)
        if len(head) - front.end >= 3:
            head = head[front.end:]
    return head, region


# --- identifiers -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgId:
    uscc: str | None        # valid 18-character USCC
    org_code: str | None    # valid 9-character organisation code (8 + check character)
    cleaned: str | None     # the compacted value whatever its validity
    valid: bool             # a valid identifier of the kind asked for
    issues: tuple[str, ...]


_EMPTY_ID = OrgId(None, None, None, False, ())
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―]")
# GB 32100-2015: registration authority (1-9, A 军队, N 农业, Y 其他), entity type,
# six-digit region code, nine-character organisation code, check character;
# letters I O S V Z are never used. (stdnum's own validate() wants digits for
# the first eight characters, rejecting the A/N/Y authorities.)
_USCC = re.compile(r"[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_ORG_CHECKS = "0123456789X0"  # indexed by c = 1 … 11


def _compact(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = to_halfwidth(str(raw))
    if not text.isalnum():
        text = _SEPARATORS.sub("", text)
    return text.upper() or None


def org_code_check_digit(body8: str) -> str:
    """The check character of an organisation code (GB 11714-1997 《全国组织机构代码
    编制规则》): weights 3 7 9 10 5 8 4 2 over the eight characters'
    values (digits 0-9, letters A=10 … Z=35); c = 11 − (Σ mod 11), written
    ``X`` for 10 and ``0`` for 11. Raises ValueError unless ``body8`` is eight
    digits / upper-case letters."""
    if len(body8) != 8 or not _ORG_VALUES.keys() >= set(body8):
        raise ValueError(f"organisation code body must be 8 of 0-9 A-Z, got {body8!r}")
    return _org_check(body8)


def _org_check(body8: str) -> str:
    total = sum(map(mul, map(_ORG_VALUES.__getitem__, body8), _ORG_WEIGHTS))
    return _ORG_CHECKS[11 - total % 11]


def uscc_check_digit(body17: str) -> str:
    """The check character of a USCC (GB 32100-2015 《法人和其他组织统一社会信用代码
    编码规则》): weights 3^i mod 31 over the values of the
    31-character alphabet (no I O S V Z); c = 31 − (Σ mod 31), 31 written 0.
    The same sum as ``stdnum.cn.uscc.calc_check_digit`` (the tests' oracle),
    which compacts its argument and costs five times as much. Raises ValueError
    unless ``body17`` is 17 characters of that alphabet."""
    if len(body17) != 17 or not _USCC_VALUES.keys() >= set(body17):
        raise ValueError(f"USCC body must be 17 of {_USCC_ALPHABET}, got {body17!r}")
    return _uscc_check(body17)


def _uscc_check(body17: str) -> str:
    total = sum(map(mul, map(_USCC_VALUES.__getitem__, body17), _USCC_WEIGHTS))
    return _USCC_ALPHABET[-total % 31]


def standardise_uscc(raw: str | None) -> OrgId:
    """A unified social credit code; never raises.

    Compacted (spaces, hyphens, full-width, case). ``valid`` means a valid USCC
    (format, then the GB 32100 check character). Its characters 9-17
    are the organisation code; should they fail their own check, the USCC stays
    valid, ``org_code`` is None and ``ORG_CODE_CHECKSUM`` is raised. A valid
    organisation code keyed here (pre-2015 records) is not a USCC
    (``USCC_FORMAT``, not valid) but still fills ``org_code``.
    """
    code = _compact(raw)
    if code is None:
        return _EMPTY_ID
    if len(code) == 9:
        org = _check_org_code(code)
        return OrgId(None, org.org_code, code, False, (Issue.USCC_FORMAT,))
    if _USCC.fullmatch(code) is None:
        return OrgId(None, None, code, False, (Issue.USCC_FORMAT,))
    if _uscc_check(code[:17]) != code[17]:
        return OrgId(None, None, code, False, (Issue.USCC_CHECKSUM,))
    org_code = code[8:17]
    if _org_check(org_code[:8]) != org_code[8]:
        return OrgId(code, None, code, True, (Issue.ORG_CODE_CHECKSUM,))
    return OrgId(code, org_code, code, True, ())


def standardise_org_code(raw: str | None) -> OrgId:
    """An organisation code (``12345678-9``, GB 11714-1997); never raises.

    ``valid`` means a valid organisation code. An 18-character value is taken
    as the USCC that replaced the code in 2015 (三证合一): the code is read from
    it, with the USCC's issues."""
    code = _compact(raw)
    if code is None:
        return _EMPTY_ID
    if len(code) == 18:
        by_uscc = standardise_uscc(code)
        return OrgId(by_uscc.uscc, by_uscc.org_code, code, by_uscc.org_code is not None,
                     by_uscc.issues)
    return _check_org_code(code)


def _check_org_code(code: str) -> OrgId:
    # A body of one repeated character (00000000-0 passes the check) is a placeholder.
    if _ORG_CODE.fullmatch(code) is None or code[:8] == code[0] * 8:
        return OrgId(None, None, code, False, (Issue.ORG_CODE_FORMAT,))
    if _org_check(code[:8]) != code[8]:
        return OrgId(None, None, code, False, (Issue.ORG_CODE_CHECKSUM,))
    return OrgId(None, code, code, True, ())
