"""True organisations of one block: registered name in parts, USCC and
organisation code, legal representative, contacts and address, with the
organisation traps (one legal rep's companies, branch and head office, one
trade name in several cities) laid over them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.generator.addresses import Streets, make_streets, moved_districts, pick_districts
from matching.generator.contacts import emails_for_orgs, landlines
from matching.generator.groups import Groups, GroupSpec, layout
from matching.generator.ids import (
    IntSet,
    mobile_numbers,
    org_code_chars,
    org_code_key,
    org_code_strings,
    uscc_strings,
)
from matching.generator.params import GeneratorParams
from matching.generator.people import han_names
from matching.generator.places import Districts

__all__ = ["Orgs", "make_orgs", "LEGAL_FORMS", "STYLE_FRONT_FULL", "STYLE_FRONT_SHORT",
           "STYLE_BRACKET", "STYLE_NONE"]

TRADE_CHARS: str = (
    "华信恒达鑫源瑞丰金桥宏远泰盛昌隆兴旺德正通利嘉禾万福永安振新天成中博创誉锦程海峰龙腾"
    "凯越启明东方合众百川美佳益联邦卓尔精诚汇智云帆君和宇航顺捷鼎晟荣耀"
)
INDUSTRIES: tuple[str, ...] = (
    "科技", "贸易", "建筑工程", "食品", "物流", "医药", "电子", "实业", "投资", "餐饮管理",
    "信息技术", "房地产开发", "机械设备", "文化传媒", "商贸", "环保科技", "网络科技", "生物科技",
    "汽车销售", "装饰工程", "农业发展", "教育咨询", "服装", "化工", "新能源", "供应链管理", "建材",
    "物业管理", "酒店管理", "广告",
)
LEGAL_FORMS: tuple[str, ...] = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
_FORM_P = (0.6, 0.2, 0.14, 0.06)
STYLE_FRONT_FULL, STYLE_FRONT_SHORT, STYLE_BRACKET, STYLE_NONE = 0, 1, 2, 3
_STYLE_P = (0.5, 0.2, 0.2, 0.1)
#: Branch traps: where a branch is and how it is named (see :func:`_branch_kinds`).
BRANCH_OTHER_CITY, BRANCH_DISTRICT, BRANCH_BARE = 0, 1, 2
BRANCH_KIND_P = (0.4, 0.3, 0.3)
#: Share of branches in the head office's building that also share its landline.
BRANCH_SHARED_LANDLINE = 0.5


@dataclass
class Orgs:
    region_full: np.ndarray   # object: 深圳市 / 北京市 / 仙桃市
    region_short: np.ndarray  # object: 深圳
    trade: np.ndarray         # object: 华信
    industry: np.ndarray      # object: 科技
    form: np.ndarray          # int: index into LEGAL_FORMS
    style: np.ndarray         # int: how the region is written in the registered name
    branch: np.ndarray        # object: 广州分公司 / 南山区分公司 / 分公司; "" for none
    uscc: np.ndarray          # object
    org_code: np.ndarray      # object
    legal_rep: np.ndarray     # object
    district: np.ndarray
    streets: Streets
    old_district: np.ndarray
    old_streets: Streets
    mobile: np.ndarray
    mobile_old: np.ndarray
    phone: np.ndarray
    email: np.ndarray
    groups: Groups

    def __len__(self) -> int:
        return len(self.trade)

    def registered_name(self, i: int) -> str:
        return compose_name(str(self.region_full[i]), str(self.region_short[i]),
                            str(self.trade[i]), str(self.industry[i]),
                            LEGAL_FORMS[int(self.form[i])], int(self.style[i]), str(self.branch[i]))


def compose_name(region_full: str, region_short: str, trade: str, industry: str, form: str,
                 style: int, branch: str, open_b: str = "（", close_b: str = "）") -> str:
    """An organisation's name from its parts, the region written per ``style``."""
    if style == STYLE_FRONT_FULL:
        return f"{region_full}{trade}{industry}{form}{branch}"
    if style == STYLE_FRONT_SHORT:
        return f"{region_short}{trade}{industry}{form}{branch}"
    if style == STYLE_BRACKET:
        return f"{trade}{industry}{open_b}{region_short}{close_b}{form}{branch}"
    return f"{trade}{industry}{form}{branch}"


def _regions(places: Districts, district: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    full = np.empty(len(district), dtype=object)
    short = np.empty(len(district), dtype=object)
    for i, d in enumerate(district.tolist()):
        city, province = places.city[d], places.province[d]
        if city:
            full[i] = city
        elif str(int(places.code[d]))[:2] in ("11", "12", "31", "50"):
            full[i] = province
        else:
            full[i] = places.name[d]
        short[i] = places.region[d]
    return full, short


def _branch_kinds(rng: np.random.Generator, lead: np.ndarray) -> np.ndarray:
    """How each branch is named and housed: in another city and named after it
    (广州分公司), or in the head office's building, named after its district
    (南山区分公司) or not at all (分公司). Two branches of one head office never
    share a name: a later branch of a group goes to another city."""
    kinds = rng.choice(3, size=len(lead), p=BRANCH_KIND_P)
    seen: set[int] = set()
    for i, head in enumerate(lead.tolist()):
        if head in seen:
            kinds[i] = BRANCH_OTHER_CITY
        seen.add(head)
    return kinds


def _other_city(rng: np.random.Generator, places: Districts, district: np.ndarray,
                followers: np.ndarray, leaders: np.ndarray) -> None:
    """Make sure each follower sits in another city than its leader."""
    for follower, head in zip(followers.tolist(), leaders.tolist(), strict=True):
        while places.city_key[district[follower]] == places.city_key[district[head]]:
            district[follower] = pick_districts(rng, places, 1)[0]


def make_orgs(rng: np.random.Generator, n: int, params: GeneratorParams, places: Districts,
              registry: IntSet) -> Orgs:
    """``n`` true organisations with clean values and their trap groups."""
    groups = layout(rng, n, [
        GroupSpec("trap_legal_rep", params.trap_legal_rep, (2, 3, 4), (0.6, 0.3, 0.1)),
        GroupSpec("trap_branch", params.trap_branch, (2, 3), (0.7, 0.3)),
        GroupSpec("trap_trade_name", params.trap_trade_name, (2, 3), (0.7, 0.3)),
    ])
    chars = np.array(list(TRADE_CHARS), dtype=object)
    trade = chars[rng.integers(0, len(chars), n)] + chars[rng.integers(0, len(chars), n)]
    industry = np.array(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n)]
    form = rng.choice(len(LEGAL_FORMS), size=n, p=_FORM_P)
    style = rng.choice(4, size=n, p=_STYLE_P)
    branch = np.full(n, "", dtype=object)
    district = pick_districts(rng, places, n)
    surname, given = han_names(rng, rng.random(n) < 0.3, params)
    legal_rep = surname + given
    streets = make_streets(rng, n, office=True)
    phone = landlines(rng, places, district)

    f, lead = groups.members["trap_legal_rep"]
    legal_rep[f] = legal_rep[lead]
    office = rng.random(len(f)) < 0.5
    fo, lo = f[office], lead[office]
    district[fo], phone[fo] = district[lo], phone[lo]
    streets.street[fo], streets.tail[fo] = streets.street[lo], streets.tail[lo]
    for kind in ("trap_branch", "trap_trade_name"):
        f, lead = groups.members[kind]
        # A name without region would be the same name twice: give the group one.
        style[lead] = np.where(style[lead] == STYLE_NONE, STYLE_FRONT_FULL, style[lead])
        trade[f], industry[f] = trade[lead], industry[lead]
        form[f], style[f] = form[lead], style[lead]
    f, lead = groups.members["trap_trade_name"]
    _other_city(rng, places, district, f, lead)
    phone[f] = landlines(rng, places, district[f])
    kind_of_branch = _branch_kinds(rng, lead=groups.members["trap_branch"][1])
    f, lead = groups.members["trap_branch"]
    away = kind_of_branch == BRANCH_OTHER_CITY
    _other_city(rng, places, district, f[away], lead[away])
    phone[f[away]] = landlines(rng, places, district[f[away]])
    here, head = f[~away], lead[~away]  # a branch office in the head office's building
    district[here] = district[head]
    streets.street[here], streets.tail[here] = streets.street[head], streets.tail[head]
    shared = rng.random(len(here)) < BRANCH_SHARED_LANDLINE
    phone[here[shared]] = phone[head[shared]]
    region_full, region_short = _regions(places, district)
    district_name = np.array(places.name, dtype=object)[district[f]]
    branch[f] = np.select(
        [kind_of_branch == BRANCH_OTHER_CITY, kind_of_branch == BRANCH_DISTRICT],
        [region_short[f] + "分公司", district_name + "分公司"], "分公司")
    region_full[f], region_short[f] = region_full[lead], region_short[lead]

    codes = org_code_chars(rng, n)
    todo = np.arange(n)
    while todo.size:
        taken = registry.add(org_code_key(codes[todo]))
        todo = todo[taken]
        codes[todo] = org_code_chars(rng, len(todo))
    uscc = np.array(uscc_strings(codes, places.code[district]), dtype=object)
    org_code = np.array(org_code_strings(codes), dtype=object)
    return Orgs(
        region_full=region_full, region_short=region_short, trade=trade, industry=industry,
        form=form, style=style, branch=branch, uscc=uscc, org_code=org_code,
        legal_rep=legal_rep, district=district, streets=streets,
        old_district=moved_districts(rng, places, district),
        old_streets=make_streets(rng, n, office=True),
        mobile=mobile_numbers(rng, n), mobile_old=mobile_numbers(rng, n), phone=phone,
        email=emails_for_orgs(rng, trade), groups=groups,
    )
