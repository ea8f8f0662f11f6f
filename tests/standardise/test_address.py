"""Addresses: character folding, region split, inference, idempotence."""

from __future__ import annotations

import dataclasses
import inspect
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.standardise.address import (
    _ANY_STEP,
    Address,
    _separators,
    match_regions,
    place_index,
    region_short_name,
    standardise_address,
)
from matching.standardise.issues import Issue
from matching.standardise.places import _match, _State

GD, SZ, NS = "广东省", "深圳市", "南山区"
BJ, SH = "北京市", "上海市"
CONFLICT = (Issue.ADDRESS_REGION_CONFLICT,)

# raw → (normalised, province, city, district, detail, issues)
CASES: list[tuple[str, tuple[object, ...]]] = [
    # 號/号, short province, short city, province dropped, spaces, full-width, traditional
    ("广东深圳南山区科技园1号", ("广东省深圳市南山区科技园1号", GD, SZ, NS, "科技园1号", ())),
    ("广东省深圳市南山区科技园1號", ("广东省深圳市南山区科技园1号", GD, SZ, NS, "科技园1号", ())),
    ("广东省 深圳市 南山区 科技园 1 号", ("广东省深圳市南山区科技园1号", GD, SZ, NS, "科技园1号", ())),
    ("深圳市南山区科技园1号", ("广东省深圳市南山区科技园1号", GD, SZ, NS, "科技园1号", ())),
    ("深圳南山区科技园1号", ("广东省深圳市南山区科技园1号", GD, SZ, NS, "科技园1号", ())),
    ("廣東省深圳市南山區科技園１號", ("广东省深圳市南山区科技园1号", GD, SZ, NS, "科技园1号", ())),
    ("中国广东省深圳市福田区", ("广东省深圳市福田区", GD, SZ, "福田区", None, ())),
    ("广州市天河区体育西路", ("广东省广州市天河区体育西路", GD, "广州市", "天河区", "体育西路", ())),
    # municipalities: city is the municipality itself, 市辖区 dropped
    ("北京市朝阳区建国路88号", ("北京市朝阳区建国路88号", BJ, BJ, "朝阳区", "建国路88号", ())),
    ("北京朝阳区建国路88号", ("北京市朝阳区建国路88号", BJ, BJ, "朝阳区", "建国路88号", ())),
    ("北京市市辖区朝阳区建国路88号", ("北京市朝阳区建国路88号", BJ, BJ, "朝阳区", "建国路88号", ())),
    ("北京市北京市海淀区", ("北京市海淀区", BJ, BJ, "海淀区", None, ())),
    ("上海浦东新区世纪大道100号", ("上海市浦东新区世纪大道100号", SH, SH, "浦东新区", "世纪大道100号", ())),
    ("上海市黄浦区南京东路1号", ("上海市黄浦区南京东路1号", SH, SH, "黄浦区", "南京东路1号", ())),
    ("重庆市渝中区解放碑", ("重庆市渝中区解放碑", "重庆市", "重庆市", "渝中区", "解放碑", ())),
    ("天津滨海新区", ("天津市滨海新区", "天津市", "天津市", "滨海新区", None, ())),
    ("北京市宣武区", ("北京市宣武区", BJ, BJ, "宣武区", None, ())),  # retired name kept
    # ambiguous districts are not given a city
    ("朝阳区建国路88号", ("朝阳区建国路88号", None, None, "朝阳区", "建国路88号", ())),
    ("南山区科技园", ("南山区科技园", None, None, "南山区", "科技园", ())),
    ("吉林省长春市朝阳区人民大街",
     ("吉林省长春市朝阳区人民大街", "吉林省", "长春市", "朝阳区", "人民大街", ())),
    ("吉林长春朝阳区", ("吉林省长春市朝阳区", "吉林省", "长春市", "朝阳区", None, ())),
    # short forms only where backed by what follows
    ("北京路88号", ("北京路88号", None, None, None, "北京路88号", ())),
    ("深圳科技园", ("深圳科技园", None, None, None, "深圳科技园", ())),
    ("吉林市船营区", ("吉林省吉林市船营区", "吉林省", "吉林市", "船营区", None, ())),
    ("吉林省吉林市船营区", ("吉林省吉林市船营区", "吉林省", "吉林市", "船营区", None, ())),
    ("海南海口美兰区", ("海南省海口市美兰区", "海南省", "海口市", "美兰区", None, ())),
    # autonomous regions and prefectures
    ("内蒙古呼和浩特市新城区",
     ("内蒙古自治区呼和浩特市新城区", "内蒙古自治区", "呼和浩特市", "新城区", None, ())),
    ("广西南宁市青秀区", ("广西壮族自治区南宁市青秀区", "广西壮族自治区", "南宁市", "青秀区", None, ())),
    ("新疆乌鲁木齐市天山区",
     ("新疆维吾尔自治区乌鲁木齐市天山区", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", None, ())),
    ("西藏拉萨市城关区", ("西藏自治区拉萨市城关区", "西藏自治区", "拉萨市", "城关区", None, ())),
    ("宁夏银川市兴庆区", ("宁夏回族自治区银川市兴庆区", "宁夏回族自治区", "银川市", "兴庆区", None, ())),
    ("延边朝鲜族自治州延吉市",
     ("吉林省延边朝鲜族自治州延吉市", "吉林省", "延边朝鲜族自治州", "延吉市", None, ())),
    # county-level cities: the prefecture inferred; a province-administered one has none
    ("江苏省昆山市前进西路", ("江苏省苏州市昆山市前进西路", "江苏省", "苏州市", "昆山市", "前进西路", ())),
    ("湖北省仙桃市", ("湖北省仙桃市", "湖北省", None, "仙桃市", None, ())),
    ("湖北省襄樊市樊城区", ("湖北省襄樊市樊城区", "湖北省", "襄樊市", "樊城区", None, ())),
    ("陕西省乾县", ("陕西省咸阳市乾县", "陕西省", "咸阳市", "乾县", None, ())),  # not 干县
    ("香港特別行政區", ("香港特别行政区", "香港特别行政区", None, None, None, ())),
    # conflicts stay in the detail
    ("广东省杭州市西湖区", ("广东省杭州市西湖区", GD, None, None, "杭州市西湖区", CONFLICT)),
    ("北京市浦东新区", ("北京市浦东新区", BJ, BJ, None, "浦东新区", CONFLICT)),
    # detail: 幢→栋, #→号 after a digit, 〇 among digits, punctuation, case
    ("浙江省杭州市西湖区文三路１０号３幢",
     ("浙江省杭州市西湖区文三路10号3栋", "浙江省", "杭州市", "西湖区", "文三路10号3栋", ())),
    ("５#楼１〇３室", ("5号楼103室", None, None, None, "5号楼103室", ())),
    ("二〇三室", ("二〇三室", None, None, None, "二〇三室", ())),
    ("a座 room 1203", ("A座ROOM 1203", None, None, None, "A座ROOM 1203", ())),
    ("科技园，1号楼。", ("科技园1号楼", None, None, None, "科技园1号楼", ())),
    ("天津市和平区【近地铁站】",
     ("天津市和平区(近地铁站)", "天津市", "天津市", "和平区", "(近地铁站)", ())),
    ("3.5号楼", ("3.5号楼", None, None, None, "3.5号楼", ())),
]

INVALID = (None, None, None, None, None, (Issue.ADDRESS_INVALID,))
EMPTY = (None, None, None, None, None, ())
CASES += [("无", INVALID), ("不详", INVALID), ("N/A", INVALID), ("--", INVALID),
          ("1234", INVALID), ("", EMPTY), ("   ", EMPTY), ("\u3000", EMPTY)]


def _fields(a: Address) -> tuple[object, ...]:
    return (a.normalised, a.province, a.city, a.district, a.detail, a.issues)


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[c[0] or "blank" for c in CASES])
def test_standardise_address(raw: str, expected: tuple[object, ...]) -> None:
    assert _fields(standardise_address(raw)) == expected


@pytest.mark.parametrize("raw", [c[0] for c in CASES])
def test_idempotent_on_table(raw: str) -> None:
    once = standardise_address(raw)
    if once.normalised is not None:
        assert standardise_address(once.normalised) == once


def test_none_is_empty() -> None:
    assert _fields(standardise_address(None)) == EMPTY


def test_variants_share_one_normalised_form() -> None:
    forms = {standardise_address(raw).normalised for raw in (
        "广东深圳南山区科技园1号", "广东省深圳市南山区科技园1號", "深圳市南山区科技园1号",
        "深圳南山区科技园１号", "中國廣東省深圳市南山區科技園1號")}
    assert forms == {"广东省深圳市南山区科技园1号"}


@pytest.mark.parametrize(
    ("name", "short"),
    [("广东省", "广东"), ("北京市", "北京"), ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"),
     ("新疆维吾尔自治区", "新疆"), ("香港特别行政区", "香港"), ("延边朝鲜族自治州", "延边"),
     ("博尔塔拉蒙古自治州", "博尔塔拉"), ("阿勒泰地区", "阿勒泰"), ("锡林郭勒盟", "锡林郭勒"),
     ("浦东新区", "浦东"), ("南山区", "南山"), ("城区", "城区"), ("沛县", "沛县")],
)
def test_region_short_name(name: str, short: str) -> None:
    assert region_short_name(name) == short


def test_match_regions_lenient_takes_bare_short_forms() -> None:
    assert match_regions("北京百度网讯科技").province is None
    found = match_regions("北京百度网讯科技", lenient=True)
    assert (found.province, found.city, found.end, found.keyed) == (
        BJ, BJ, 2, ((0, 2, "province", BJ),))


_FRAGMENTS = ["广东", "深圳", "南山区", "北京", "朝阳区", "吉林", "吉林市", "中国", "上海", "市辖区",
              "浦东新区", "省", "市", "区", "號", "#", "〇", "1", "１", " ", "　", "，", ".", "(",
              "）", "幢", "乾县", "陕西", "杭州市", "昆山市", "江苏", "a", "路"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=8)
       .map("".join))
def test_idempotent_property(raw: str) -> None:
    once = standardise_address(raw)
    if once.normalised is not None:
        assert standardise_address(once.normalised) == once


@settings(max_examples=300)
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=8)
       .map("".join))
def test_separators_only_act_on_the_characters_of_any_step(text: str) -> None:
    """_prepare skips _separators when _ANY_STEP finds nothing: sound only if
    _separators then changes nothing."""
    if _ANY_STEP.search(text) is None:
        assert _separators(text) == text


def test_only_ideographic_zero_of_any_step_is_alphanumeric() -> None:
    """_prepare takes an alphanumeric text without 〇 to hold nothing for _separators."""
    for code in range(0x110000):
        char = chr(code)
        if char.isalnum() and _ANY_STEP.match(char):
            assert char == "〇"


def _region_texts(count: int) -> list[str]:
    """Texts starting with gazetteer names (full, short, cut short, repeated, in
    the wrong province) followed by a little of anything."""
    ix = place_index()
    names = [name for table in (ix.prov_full, ix.prov_short, ix.city_full, ix.city_short,
                                ix.dist_full) for name in table.names]
    names.sort()
    filler = ["", "", "市辖区", "市辖", "市", "中国", "路", "1号", "北京路", "朝阳", "区", "#", "a"]
    rng = random.Random(11643)
    # every text cut short after each character, for the reads at the text's end
    texts = [full[:n] for full in ("广东省广东省深圳市市辖区南山区1号", "北京市北京市市辖区朝阳区",
                                   "内蒙古呼和浩特市", "广东北京路", "深圳南山区")
             for n in range(len(full) + 1)]
    for _ in range(count):
        parts = [rng.choice(names) for _ in range(rng.randrange(1, 4))]
        if rng.random() < 0.2:
            parts[-1] = parts[-1][:rng.randrange(1, len(parts[-1]) + 1)]
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(filler))
        parts.append(rng.choice(filler) + rng.choice(names)[:rng.randrange(4)])
        texts.append("".join(parts))
    return texts


def test_region_memo_agrees_with_matching_afresh() -> None:
    """match_regions answers from a memo keyed on the characters a match read;
    every answer must equal a fresh match, whatever was memoised before."""
    texts = _region_texts(6000)
    for lenient in (False, True):
        for text in texts + texts:  # the second round answers from the memo
            for pos in (0, 2):
                fresh = _match(_State(text, pos), lenient)
                assert match_regions(text, pos, lenient=lenient) == fresh, (text, pos, lenient)


def test_address_init_sets_every_field_and_stays_frozen() -> None:
    """Address.__init__ is written out by hand (slot descriptors, for speed): it
    must take the fields in order, set each, and leave the instance frozen."""
    names = [f.name for f in dataclasses.fields(Address)]
    assert list(inspect.signature(Address).parameters) == names
    values: list[Any] = [f"value {i}" for i in range(len(names))]
    made = Address(*values)
    assert [getattr(made, n) for n in names] == values
    assert made == Address(**dict(zip(names, values, strict=True)))
    assert hash(made) == hash(Address(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.normalised = "x"  # type: ignore[misc]
