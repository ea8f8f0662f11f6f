"""Keying the contact fields persons and organisations share: mobile,
landline and address, each with its errors."""

from __future__ import annotations

import numpy as np

from matching.generator.addresses import Streets
from matching.generator.dirt import Dirt, format_mobile, insert_space
from matching.generator.places import Districts

__all__ = ["key_mobile", "key_phone", "key_address", "address_text"]


def key_mobile(d: Dirt, present: np.ndarray, mobile: np.ndarray,
               mobile_old: np.ndarray) -> np.ndarray:
    """Mobiles as keyed; ``present`` says which records hold one."""
    changed = d.draw("mobile_changed", present)
    number = np.where(changed, mobile_old, mobile).tolist()
    country = d.draw("mobile_country_code", present)
    seps = d.draw("mobile_separators", present)
    picks = d.ints()
    out = np.full(d.n, "", dtype=object)
    for i in np.flatnonzero(present).tolist():
        text = str(number[i])
        if country[i] or seps[i]:
            text = format_mobile(text, 1 + picks[i] % 4 if country[i] else 0,
                                 1 + (picks[i] >> 3) % 2 if seps[i] else 0)
        out[i] = text
    return out


def key_phone(d: Dirt, present: np.ndarray, places: Districts, district: np.ndarray,
              local: np.ndarray) -> np.ndarray:
    """Landlines as keyed: 0755-26881234, (0755)26881234, 075526881234 or
    0755 26881234; or the local number alone."""
    no_area = d.draw("phone_no_area_code", present)
    picks = d.ints()
    out = np.full(d.n, "", dtype=object)
    for i in np.flatnonzero(present).tolist():
        number = str(local[i])
        if no_area[i]:
            out[i] = number
            continue
        area = places.area_code[district[i]]
        style = picks[i] % 10
        if style < 6:
            out[i] = f"{area}-{number}"
        elif style < 8:
            out[i] = f"({area}){number}"
        elif style < 9:
            out[i] = f"{area}{number}"
        else:
            out[i] = f"{area} {number}"
    return out


def address_text(places: Districts, district: int, street: str, tail: str,
                 province: bool = True) -> str:
    """One address: province, city, district, street and number, the rest."""
    prov = places.province[district] if province else ""
    return f"{prov}{places.city[district]}{places.name[district]}{street}{tail}"


def key_address(d: Dirt, places: Districts, district: np.ndarray, streets: Streets,
                old_district: np.ndarray, old_streets: Streets) -> np.ndarray:
    """Addresses as keyed, from per-record arrays of the customer's current
    and former address."""
    missing = d.draw("address_missing")
    have = ~missing
    moved = d.draw("address_moved", have)
    dist = np.where(moved, old_district, district).tolist()
    street = np.where(moved, old_streets.street, streets.street).tolist()
    tail = np.where(moved, old_streets.tail, streets.tail)
    no_prov = d.draw("address_no_province", have)
    truncated = d.draw("address_truncated", have & (tail != ""))
    hao = d.draw("address_traditional_hao", have)
    space = d.draw("address_space", have)
    tail_list = tail.tolist()
    picks = d.ints()
    out = np.full(d.n, "", dtype=object)
    provinces, cities, names = places.province, places.city, places.name
    no_prov_l, trunc_l = no_prov.tolist(), truncated.tolist()
    for i in np.flatnonzero(have).tolist():
        k = dist[i]
        out[i] = (("" if no_prov_l[i] else provinces[k]) + cities[k] + names[k] + street[i]
                  + ("" if trunc_l[i] else tail_list[i]))
    for i in np.flatnonzero(hao).tolist():
        out[i] = str(out[i]).replace("号", "號")
    for i in np.flatnonzero(space).tolist():
        out[i] = insert_space(str(out[i]), picks[i])
    return out
