"""Organisations' source records as each system keys them, errors included."""

from __future__ import annotations

import numpy as np

from matching.config import CodeMaps
from matching.generator.addresses import Streets
from matching.generator.dirt import (
    Dirt,
    change_char,
    code_table,
    has_homophone,
    insert_space,
    swap_char,
    unmapped_codes,
)
from matching.generator.fields import key_address, key_mobile, key_phone
from matching.generator.ids import USCC_ALPHABET
from matching.generator.orgs import LEGAL_FORMS, STYLE_BRACKET, Orgs, compose_name
from matching.generator.params import GeneratorParams
from matching.generator.places import Districts
from matching.generator.typos import homophones

__all__ = ["key_orgs"]

_HALF = str.maketrans("（）", "()")


def _key_names(d: Dirt, orgs: Orgs, ent: np.ndarray) -> np.ndarray:
    style = orgs.style[ent].copy()
    form = orgs.form[ent].copy()
    industry = orgs.industry[ent].copy()
    trade = orgs.trade[ent].copy()
    empty = d.draw("name_empty")
    ok = ~empty
    moved = d.draw("org_region_style", ok)
    style[moved] = (style[moved] + d.rng.integers(1, 4, int(moved.sum()))) % 4
    legal = d.draw("org_legal_form", ok & (form <= 1))
    form[legal] = 1 - form[legal]
    industry[d.draw("org_industry_dropped", ok)] = ""
    typo_ok = np.array([has_homophone(str(t)) for t in orgs.trade], dtype=bool)[ent]
    typo = d.draw("org_typo", ok & typo_ok)
    picks = d.ints()
    for i in np.flatnonzero(typo).tolist():
        trade[i] = swap_char(str(trade[i]), homophones(), picks[i])
    region_full, region_short = orgs.region_full[ent], orgs.region_short[ent]
    branch = orgs.branch[ent].copy()
    branch[d.draw("branch_marker_dropped", ok & (branch != ""))] = ""
    name = np.array([
        compose_name(rf, rs, t, ind, LEGAL_FORMS[f], st, b)
        for rf, rs, t, ind, f, st, b in zip(
            region_full.tolist(), region_short.tolist(), trade.tolist(), industry.tolist(),
            form.tolist(), style.tolist(), branch.tolist(), strict=True)
    ], dtype=object)
    half = d.draw("org_halfwidth_brackets", ok & (style == STYLE_BRACKET))
    for i in np.flatnonzero(half).tolist():
        name[i] = str(name[i]).translate(_HALF)
    space = d.draw("org_space", ok)
    picks = d.ints()
    for i in np.flatnonzero(space).tolist():
        name[i] = insert_space(str(name[i]), picks[i] & ~3)  # inside, never trailing
    name[empty] = ""
    return name


def _key_ids(d: Dirt, orgs: Orgs, ent: np.ndarray, system: np.ndarray,
             codes: CodeMaps) -> tuple[np.ndarray, np.ndarray]:
    missing = d.draw("org_id_missing")
    old_code = d.draw("org_code_instead", ~missing)
    id_type = code_table(codes, "id_type", ("USCC", "ORG_CODE"))[system, old_code.astype(np.int64)]
    number = np.where(old_code, orgs.org_code[ent], orgs.uscc[ent])
    no_number = d.draw("id_number_missing", ~missing)
    unmapped = d.draw("id_type_unmapped", ~missing)
    junk = unmapped_codes(codes, "id_type")
    picks = d.ints()
    for i in np.flatnonzero(unmapped).tolist():
        id_type[i] = junk[system[i]][picks[i] % len(junk[system[i]])]
    uscc = ~missing & ~no_number & ~old_code
    org = ~missing & ~no_number & old_code
    typo = d.draw("uscc_typo", uscc)
    picks = d.ints()
    for i in np.flatnonzero(typo).tolist():
        number[i] = change_char(str(number[i]), picks[i], USCC_ALPHABET, 17)
    lower = d.draw("uscc_lower", uscc)
    number[lower] = np.array([str(x).lower() for x in number[lower]], dtype=object)
    typo = d.draw("org_code_typo", org)
    picks = d.ints()
    for i in np.flatnonzero(typo).tolist():
        number[i] = change_char(str(number[i]), picks[i], USCC_ALPHABET, 8)
    hyphen = d.draw("org_code_hyphen", org)
    for i in np.flatnonzero(hyphen).tolist():
        s = str(number[i])
        number[i] = f"{s[:8]}-{s[8:]}"
    id_type[missing] = ""
    number[missing | no_number] = ""
    return id_type, number


def key_orgs(rng: np.random.Generator, orgs: Orgs, ent: np.ndarray, system: np.ndarray,
             params: GeneratorParams, codes: CodeMaps, places: Districts,
             keep_masks: bool) -> tuple[dict[str, np.ndarray], Dirt]:
    """Columns of organisations' records (entity ``ent[i]`` sent by ``system[i]``)."""
    d = Dirt(rng, params, system, keep_masks)
    n = len(ent)
    cols: dict[str, np.ndarray] = {"customer_type": np.full(n, "G", dtype=object)}
    cols["name"] = _key_names(d, orgs, ent)
    cols["gender"] = np.full(n, "", dtype=object)
    cols["birth_date"] = np.full(n, "", dtype=object)
    cols["id_type"], cols["id_number"] = _key_ids(d, orgs, ent, system, codes)
    cols["mobile"] = key_mobile(d, d.presence("org_mobile_present"), orgs.mobile[ent],
                                orgs.mobile_old[ent])
    cols["phone"] = key_phone(d, d.presence("org_phone_present"), places, orgs.district[ent],
                              orgs.phone[ent])
    email = orgs.email[ent].copy()
    email[~d.presence("org_email_present")] = ""
    cols["email"] = email
    cols["address"] = key_address(
        d, places, orgs.district[ent], Streets(orgs.streets.street[ent], orgs.streets.tail[ent]),
        orgs.old_district[ent],
        Streets(orgs.old_streets.street[ent], orgs.old_streets.tail[ent]))
    rep = orgs.legal_rep[ent].copy()
    missing = d.draw("legal_rep_missing")
    typo = d.draw("legal_rep_typo", ~missing)
    picks = d.ints()
    for i in np.flatnonzero(typo).tolist():
        rep[i] = swap_char(str(rep[i]), homophones(), picks[i])
    rep[missing] = ""
    cols["legal_rep"] = rep
    return cols, d
