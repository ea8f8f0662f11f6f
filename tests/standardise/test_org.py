"""Organisations: name parts, USCC and organisation codes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from matching.standardise.issues import Issue
from matching.standardise.org import (
    OrgId,
    OrgName,
    org_code_check_digit,
    standardise_org_code,
    standardise_org_name,
    standardise_uscc,
    uscc_check_digit,
)

LLC, JSC = "有限责任公司", "股份有限公司"
TENCENT = "腾讯计算机系统"

# raw → (name, core, region, legal_form, branch, issues)
NAMES: list[tuple[str, tuple[object, ...]]] = [
    # one company, four spellings: same core and region
    ("深圳市腾讯计算机系统有限公司", ("深圳市腾讯计算机系统有限公司", TENCENT, "深圳", LLC, None, ())),
    ("腾讯计算机系统（深圳）有限公司", ("腾讯计算机系统(深圳)有限公司", TENCENT, "深圳", LLC, None, ())),
    ("深圳腾讯计算机系统有限责任公司", ("深圳腾讯计算机系统有限责任公司", TENCENT, "深圳", LLC, None, ())),
    ("深圳市 腾讯计算机系统 有限公司", ("深圳市腾讯计算机系统有限公司", TENCENT, "深圳", LLC, None, ())),
    ("腾讯科技(深圳)有限公司", ("腾讯科技(深圳)有限公司", "腾讯科技", "深圳", LLC, None, ())),
    ("北京百度网讯科技有限公司", ("北京百度网讯科技有限公司", "百度网讯科技", "北京", LLC, None, ())),
    ("華為技術有限公司", ("华为技术有限公司", "华为技术", None, LLC, None, ())),
    ("内蒙古伊利实业集团股份有限公司",
     ("内蒙古伊利实业集团股份有限公司", "伊利实业集团", "内蒙古", JSC, None, ())),
    ("广东省深圳市某某科技有限公司", ("广东省深圳市某某科技有限公司", "某某科技", "深圳", LLC, None, ())),
    ("北京市海淀区某某服务中心", ("北京市海淀区某某服务中心", "某某服务中心", "北京", None, None, ())),
    ("微软(中国)有限公司", ("微软(中国)有限公司", "微软", "中国", LLC, None, ())),
    ("IBM（中国）投资有限公司", ("IBM(中国)投资有限公司", "IBM投资", "中国", LLC, None, ())),
    # a region that is the trade name stays in the core
    ("北京银行股份有限公司", ("北京银行股份有限公司", "北京银行", "北京", JSC, None, ())),
    ("上海浦东发展银行股份有限公司", ("上海浦东发展银行股份有限公司", "浦东发展银行", "上海", JSC, None, ())),
    # legal forms
    ("某某股份公司", ("某某股份公司", "某某", None, JSC, None, ())),
    ("海尔集团公司", ("海尔集团公司", "海尔集团", None, "公司", None, ())),
    ("美的(集团)股份有限公司", ("美的(集团)股份有限公司", "美的集团", None, JSC, None, ())),
    ("美的集团股份有限公司", ("美的集团股份有限公司", "美的集团", None, JSC, None, ())),
    ("某某投资管理中心（有限合伙）", ("某某投资管理中心(有限合伙)", "某某投资管理中心", None, "有限合伙", None, ())),
    ("某某会计师事务所(特殊普通合伙)",
     ("某某会计师事务所(特殊普通合伙)", "某某会计师事务所", None, "特殊普通合伙", None, ())),
    ("某某合伙企业", ("某某合伙企业", "某某", None, "合伙企业", None, ())),
    ("某某个人独资企业", ("某某个人独资企业", "某某", None, "个人独资企业", None, ())),
    # branches: own field with the location, core shared with the head office
    ("中国平安人寿保险股份有限公司", ("中国平安人寿保险股份有限公司", "中国平安人寿保险", None, JSC, None, ())),
    ("中国平安人寿保险股份有限公司深圳分公司",
     ("中国平安人寿保险股份有限公司深圳分公司", "中国平安人寿保险", None, JSC, "深圳分公司", ())),
    ("中国平安人寿保险股份有限公司深圳市分公司",
     ("中国平安人寿保险股份有限公司深圳市分公司", "中国平安人寿保险", None, JSC, "深圳分公司", ())),
    ("中国人寿保险股份有限公司（北京市分公司）",
     ("中国人寿保险股份有限公司(北京市分公司)", "中国人寿保险", None, JSC, "北京分公司", ())),
    ("中国工商银行股份有限公司北京朝阳支行",
     ("中国工商银行股份有限公司北京朝阳支行", "中国工商银行", None, JSC, "北京朝阳支行", ())),
    ("中国工商银行北京市朝阳区支行",
     ("中国工商银行北京市朝阳区支行", "中国工商银行", None, None, "北京朝阳支行", ())),
    ("中國人民財產保險股份有限公司廣州市分公司",
     ("中国人民财产保险股份有限公司广州市分公司", "中国人民财产保险", None, JSC, "广州分公司", ())),
    ("某某证券股份有限公司深圳深南大道证券营业部",
     ("某某证券股份有限公司深圳深南大道证券营业部", "某某证券", None, JSC, "深圳深南大道证券营业部", ())),
    ("招商银行科技园支行", ("招商银行科技园支行", "招商银行", None, None, "科技园支行", ())),
    ("某某保险股份有限公司深圳分公司第一营业部",
     ("某某保险股份有限公司深圳分公司第一营业部", "某某保险", None, JSC, "深圳分公司第一营业部", ())),
    ("某某总公司", ("某某总公司", "某某", None, "公司", None, ())),
    ("某某会计师事务所(特殊普通合伙)深圳分所",
     ("某某会计师事务所(特殊普通合伙)深圳分所", "某某会计师事务所", None, "特殊普通合伙", "深圳分所", ())),
    # brackets, quotes, case
    ("某某【深圳】科技有限公司", ("某某(深圳)科技有限公司", "某某科技", "深圳", LLC, None, ())),
    ("“某某”科技有限公司", ("某某科技有限公司", "某某科技", None, LLC, None, ())),
    ("abc company", ("ABC COMPANY", "ABC COMPANY", None, None, None, ())),
    # nothing usable
    ("12345", (None, None, None, None, None, (Issue.NAME_INVALID,))),
    ("（）", (None, None, None, None, None, (Issue.NAME_INVALID,))),
    ("", (None, None, None, None, None, ())),
    ("  ", (None, None, None, None, None, ())),
]


def _parts(o: OrgName) -> tuple[object, ...]:
    return (o.name, o.core, o.region, o.legal_form, o.branch, o.issues)


@pytest.mark.parametrize(("raw", "expected"), NAMES, ids=[n[0] or "blank" for n in NAMES])
def test_standardise_org_name(raw: str, expected: tuple[object, ...]) -> None:
    assert _parts(standardise_org_name(raw)) == expected


@pytest.mark.parametrize("raw", [n[0] for n in NAMES])
def test_org_name_idempotent_on_table(raw: str) -> None:
    once = standardise_org_name(raw)
    if once.name is not None:
        assert standardise_org_name(once.name) == once


def test_none_name() -> None:
    assert _parts(standardise_org_name(None)) == (None, None, None, None, None, ())


def test_variants_share_core_and_region() -> None:
    parts = {(o.core, o.region) for o in map(standardise_org_name, [
        "深圳市腾讯计算机系统有限公司", "腾讯计算机系统（深圳）有限公司",
        "深圳腾讯计算机系统有限责任公司", "深圳市 腾讯计算机系统 有限公司",
        "腾讯计算机系统(深圳)有限公司"])}
    assert parts == {(TENCENT, "深圳")}


def test_branch_differs_from_head_office_but_shares_core() -> None:
    head = standardise_org_name("中国平安人寿保险股份有限公司")
    branch = standardise_org_name("中国平安人寿保险股份有限公司深圳分公司")
    assert head.core == branch.core == "中国平安人寿保险"
    assert head.name != branch.name
    assert (head.branch, branch.branch) == (None, "深圳分公司")


# --- identifiers -------------------------------------------------------------

# Real USCCs and the organisation codes inside them (stdnum agrees on each USCC).
PAIRS = [
    ("91440300708461136T", "708461136"),  # 深圳市腾讯计算机系统有限公司
    ("91110108551385082Q", "551385082"),
    ("91110000600037341L", "600037341"),  # python-stdnum's doctest
    ("91110000802100433B", "802100433"),
    ("914403001922038216", "192203821"),
    ("91310000MA1FL1MMXL", "MA1FL1MMX"),  # a post-2015 "MA" code
]


@pytest.mark.parametrize(("code", "org_code"), PAIRS)
def test_valid_uscc_gives_its_org_code(code: str, org_code: str) -> None:
    assert stdnum_uscc.is_valid(code)
    assert standardise_uscc(code) == OrgId(code, org_code, code, True, ())
    assert standardise_org_code(org_code) == OrgId(None, org_code, org_code, True, ())
    hyphenated = f"{org_code[:8]}-{org_code[8]}"
    assert standardise_org_code(hyphenated).org_code == standardise_uscc(code).org_code


USCC_CASES: list[tuple[str | None, OrgId]] = [
    ("9144 0300-7084 6113 6t", OrgId("91440300708461136T", "708461136",
                                     "91440300708461136T", True, ())),
    ("９１４４０３００７０８４６１１３６Ｔ", OrgId("91440300708461136T", "708461136",
                                      "91440300708461136T", True, ())),
    # one character changed: the check character no longer fits
    ("91440300708461137T", OrgId(None, None, "91440300708461137T", False,
                                 (Issue.USCC_CHECKSUM,))),
    ("91110108551385082R", OrgId(None, None, "91110108551385082R", False,
                                 (Issue.USCC_CHECKSUM,))),
    ("9144030070846113", OrgId(None, None, "9144030070846113", False, (Issue.USCC_FORMAT,))),
    ("91440300708461I36T", OrgId(None, None, "91440300708461I36T", False,
                                 (Issue.USCC_FORMAT,))),  # I is not in the alphabet
    ("01440300708461136T", OrgId(None, None, "01440300708461136T", False,
                                 (Issue.USCC_FORMAT,))),  # no authority 0
    # an organisation code keyed as a USCC: not a USCC, but the code is kept
    ("70846113-6", OrgId(None, "708461136", "708461136", False, (Issue.USCC_FORMAT,))),
    ("", OrgId(None, None, None, False, ())),
    (None, OrgId(None, None, None, False, ())),
]


@pytest.mark.parametrize(("raw", "expected"), USCC_CASES)
def test_standardise_uscc(raw: str | None, expected: OrgId) -> None:
    assert standardise_uscc(raw) == expected


ORG_CASES: list[tuple[str | None, OrgId]] = [
    ("70846113-6", OrgId(None, "708461136", "708461136", True, ())),
    ("７０８４６１１３－６", OrgId(None, "708461136", "708461136", True, ())),
    ("70846113 6", OrgId(None, "708461136", "708461136", True, ())),
    ("ma1fl1mm-x", OrgId(None, "MA1FL1MMX", "MA1FL1MMX", True, ())),
    ("70846113-7", OrgId(None, None, "708461137", False, (Issue.ORG_CODE_CHECKSUM,))),
    ("70846114-6", OrgId(None, None, "708461146", False, (Issue.ORG_CODE_CHECKSUM,))),
    ("7084611-36", OrgId(None, "708461136", "708461136", True, ())),  # hyphen misplaced
    ("708461136A", OrgId(None, None, "708461136A", False, (Issue.ORG_CODE_FORMAT,))),
    ("70846113-A", OrgId(None, None, "70846113A", False, (Issue.ORG_CODE_FORMAT,))),
    ("00000000-0", OrgId(None, None, "000000000", False, (Issue.ORG_CODE_FORMAT,))),
    # the USCC that replaced the code (三证合一) keyed as the code
    ("91440300708461136T", OrgId("91440300708461136T", "708461136", "91440300708461136T",
                                 True, ())),
    ("91440300708461137T", OrgId(None, None, "91440300708461137T", False,
                                 (Issue.USCC_CHECKSUM,))),
    ("", OrgId(None, None, None, False, ())),
    (None, OrgId(None, None, None, False, ())),
]


@pytest.mark.parametrize(("raw", "expected"), ORG_CASES)
def test_standardise_org_code(raw: str | None, expected: OrgId) -> None:
    assert standardise_org_code(raw) == expected


@pytest.mark.parametrize("raw", [c[0] for c in USCC_CASES + ORG_CASES])
def test_ids_idempotent_on_table(raw: str | None) -> None:
    for fn in (standardise_uscc, standardise_org_code):
        once = fn(raw)
        if once.cleaned is not None:
            assert fn(once.cleaned) == once


@pytest.mark.parametrize(
    ("body", "check"),
    [("70846113", "6"), ("55138508", "2"), ("60003734", "1"), ("MA1FL1MM", "X"),
     ("00000000", "0"), ("10000000", "8")],
)
def test_org_code_check_digit(body: str, check: str) -> None:
    assert org_code_check_digit(body) == check


def test_org_code_check_digit_rejects_bad_body() -> None:
    with pytest.raises(ValueError, match="8 of 0-9 A-Z"):
        org_code_check_digit("1234567")


def test_embedded_org_code_with_a_bad_check_keeps_the_uscc_valid() -> None:
    body = "91440300" + "708461137"  # organisation code check should be 6
    code = body + stdnum_uscc.calc_check_digit(body)
    assert stdnum_uscc.is_valid(code)  # stdnum does not look inside
    assert standardise_uscc(code) == OrgId(code, None, code, True, (Issue.ORG_CODE_CHECKSUM,))
    assert standardise_org_code(code).valid is False


@pytest.mark.parametrize("authority", ["N2", "Y1", "A1"])
def test_letter_authorities_are_accepted(authority: str) -> None:
    body = authority + "330106" + "708461136"
    code = body + uscc_check_digit(body)
    assert not stdnum_uscc.is_valid(code)  # stdnum wants eight leading digits
    assert standardise_uscc(code).uscc == code


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@settings(max_examples=500)
@given(st.text(alphabet=_USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_digit_matches_stdnum(body: str) -> None:
    assert uscc_check_digit(body) == stdnum_uscc.calc_check_digit(body)


_FRAGMENTS = ["深圳", "深圳市", "北京", "有限公司", "有限责任公司", "股份有限公司", "分公司", "支行",
              "(", ")", "（", "）", "【", "集团", "中国", "科技", "銀行", " ", "　", "“", "a", "公司",
              "(有限合伙)", "营业部", "朝阳区"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=8)
       .map("".join))
def test_org_name_idempotent_property(raw: str) -> None:
    once = standardise_org_name(raw)
    if once.name is not None:
        assert standardise_org_name(once.name) == once
