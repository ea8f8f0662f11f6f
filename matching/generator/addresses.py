"""Street addresses below the district: road and number, then the estate,
building, unit and room (urban homes), town, village and group (rural
homes), or the building and floor (offices)."""

from __future__ import annotations

import numpy as np

from matching.generator.places import Districts

__all__ = ["Streets", "make_streets", "pick_districts", "moved_districts"]

ROADS: tuple[str, ...] = (
    "人民", "解放", "中山", "建设", "和平", "新华", "胜利", "文化", "长江", "黄河", "朝阳", "光明",
    "东风", "青年", "团结", "幸福", "南京", "北京", "上海", "延安", "学府", "科技", "工业", "迎宾",
    "滨江", "滨河", "环城", "金融", "世纪", "红旗", "五一", "八一", "建国", "复兴", "振兴", "兴华",
    "文明", "友谊", "健康", "花园", "沿江", "湖滨", "府前", "车站", "体育", "大学", "园林", "江南",
    "城东", "城西", "城南", "城北", "东环", "西环", "南环", "北环", "新城", "站前", "公园", "天府",
    "深南", "中华", "民主", "永安", "长安", "华山", "泰山", "黄山", "庐山", "嵩山", "龙华", "金桥",
)
ROAD_SUFFIXES: tuple[tuple[str, float], ...] = (
    ("路", 0.5), ("街", 0.15), ("大道", 0.12), ("东路", 0.06), ("西路", 0.05), ("南路", 0.04),
    ("北路", 0.04), ("大街", 0.04),
)
ESTATES: tuple[str, ...] = (
    "阳光", "金色", "锦绣", "翠苑", "丽景", "华府", "东方", "名都", "星河", "绿地", "金地", "御景",
    "香榭", "枫林", "海棠", "紫荆", "望江", "观澜", "书香", "和谐", "盛世", "碧水", "春华", "明珠",
    "滨江", "龙湖", "世纪", "怡景", "桂园", "康城",
)
ESTATE_SUFFIXES: tuple[str, ...] = (
    "花园", "小区", "家园", "苑", "新村", "公寓", "华庭", "名苑", "雅居", "城",
)
BUILDING_WORDS: tuple[str, ...] = ("栋", "号楼", "幢", "座")
TOWNS: tuple[str, ...] = (
    "城关", "新塘", "石桥", "河口", "王集", "李庄", "马店", "清水", "白沙", "黄土", "龙泉", "高桥",
    "双河", "三合", "柳林", "杨柳", "沙河", "长岭", "青山", "太平",
)
VILLAGES: tuple[str, ...] = (
    "大王", "小李", "前进", "红星", "东风", "新民", "张家", "刘家", "陈家", "杨家", "后营", "南庄",
    "北坡", "西湾", "东岗", "上河", "下河", "中心", "团结", "和平",
)
OFFICE_WORDS: tuple[str, ...] = (
    "大厦", "中心", "广场", "国际大厦", "科技园", "商务中心", "金融中心", "创业园",
)

_SUFFIX = np.array([s for s, _ in ROAD_SUFFIXES], dtype=object)
_SUFFIX_P = np.array([p for _, p in ROAD_SUFFIXES])
_SUFFIX_P = _SUFFIX_P / _SUFFIX_P.sum()


class Streets:
    """The part of each address below the district, split where a clerk
    truncates it: ``street`` ends with the street number, ``tail`` holds
    the estate, building and room (may be empty)."""

    def __init__(self, street: np.ndarray, tail: np.ndarray) -> None:
        self.street = street
        self.tail = tail


def pick_districts(rng: np.random.Generator, places: Districts, n: int) -> np.ndarray:
    """``n`` district indexes drawn by population."""
    return rng.choice(len(places), size=n, p=places.weight)


def moved_districts(rng: np.random.Generator, places: Districts,
                    district: np.ndarray) -> np.ndarray:
    """Where a customer lived before: mostly another district of the same
    province, sometimes anywhere."""
    out = pick_districts(rng, places, len(district))
    local = rng.random(len(district)) < 0.6
    for i in np.flatnonzero(local).tolist():
        same = places.by_province[str(int(places.code[district[i]]))[:2]]
        out[i] = same[rng.integers(0, len(same))]
    return out


def _numbers(rng: np.random.Generator, n: int, top: int) -> np.ndarray:
    """House numbers: small ones are far more common."""
    return np.minimum(np.floor(rng.pareto(1.2, size=n) * 12).astype(np.int64) + 1, top)


def make_streets(rng: np.random.Generator, n: int, office: bool) -> Streets:
    """``n`` street parts: homes (urban or rural) or offices."""
    road = rng.integers(0, len(ROADS), size=n).tolist()
    suffix = _SUFFIX[rng.choice(len(_SUFFIX), size=n, p=_SUFFIX_P)].tolist()
    number = _numbers(rng, n, 999).tolist()
    street = np.array([f"{ROADS[r]}{s}{k}号" for r, s, k in zip(road, suffix, number, strict=True)],
                      dtype=object)
    tail = np.empty(n, dtype=object)
    if office:
        word = rng.integers(0, len(OFFICE_WORDS), size=n).tolist()
        floor = rng.integers(1, 40, size=n).tolist()
        room = rng.integers(1, 20, size=n).tolist()
        style = rng.integers(0, 3, size=n).tolist()
        estate = rng.integers(0, len(ESTATES), size=n).tolist()
        for i in range(n):
            building = f"{ESTATES[estate[i]]}{OFFICE_WORDS[word[i]]}"
            if style[i] == 0:
                tail[i] = f"{building}{floor[i]}层"
            elif style[i] == 1:
                tail[i] = f"{building}{floor[i]}{room[i]:02d}室"
            else:
                tail[i] = f"{floor[i]}楼{room[i]:02d}室"
        return Streets(street, tail)
    rural = rng.random(n) < 0.2
    estate = rng.integers(0, len(ESTATES), size=n).tolist()
    esuf = rng.integers(0, len(ESTATE_SUFFIXES), size=n).tolist()
    building = rng.integers(1, 41, size=n).tolist()
    bword = rng.integers(0, len(BUILDING_WORDS), size=n).tolist()
    unit = rng.integers(1, 7, size=n).tolist()
    floor = rng.integers(1, 34, size=n).tolist()
    room = rng.integers(1, 5, size=n).tolist()
    has_unit = (rng.random(n) < 0.6).tolist()
    town = rng.integers(0, len(TOWNS), size=n).tolist()
    village = rng.integers(0, len(VILLAGES), size=n).tolist()
    group = rng.integers(1, 13, size=n).tolist()
    for i in range(n):
        if rural[i]:
            street[i] = f"{TOWNS[town[i]]}镇{VILLAGES[village[i]]}村{group[i]}组{number[i]}号"
            tail[i] = ""
            continue
        unit_part = f"{unit[i]}单元" if has_unit[i] else ""
        tail[i] = (f"{ESTATES[estate[i]]}{ESTATE_SUFFIXES[esuf[i]]}{building[i]}"
                   f"{BUILDING_WORDS[bword[i]]}{unit_part}{floor[i]}{room[i]:02d}室")
    return Streets(street, tail)
