"""Every rate of the synthetic data generator, in one frozen dataclass.

Each field carries its documentation in ``metadata["doc"]``; the error and
trap kinds carry ``metadata["kind"]`` (``"error"`` or ``"trap"``) and
``metadata["applies"]`` (which records it can apply to — a rate is the share
of those records, or for traps the share of entities of that type). The
docs/generator.md table, ``config/generator.yaml`` and the tests are all checked against
these fields, so a new kind is added here first.

``config/generator.yaml`` holds the same defaults with a comment per field;
:func:`load_params` reads it (or any YAML naming a subset of the fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from matching.config import load_yaml
from matching.exceptions import ConfigError

__all__ = ["SOURCE_SYSTEMS", "GeneratorParams", "load_params", "error_kinds", "trap_kinds"]

#: The six sending systems of CONTRACT.md §2 (API is a caller, not a source).
SOURCE_SYSTEMS: tuple[str, ...] = ("CORE", "UW", "CLAIM", "TELE", "FIN", "WEB")


def _rate(default: float, doc: str, kind: str = "", applies: str = "") -> Any:
    return field(default=default, metadata={"doc": doc, "kind": kind, "applies": applies})


def _err(default: float, applies: str, doc: str) -> Any:
    return _rate(default, doc, "error", applies)


def _trap(default: float, applies: str, doc: str) -> Any:
    return _rate(default, doc, "trap", applies)


def _table(factory: Any, doc: str) -> Any:
    return field(default_factory=factory, metadata={"doc": doc, "kind": "", "applies": ""})


@dataclass(frozen=True)
class GeneratorParams:
    # --- population -------------------------------------------------------
    org_share: float = _rate(0.08, "share of true customers that are organisations (G)")
    compound_surname_rate: float = _rate(0.01, "share of persons with a compound surname (欧阳)")
    minority_rate: float = _rate(0.015, "share of persons with a minority name (买买提·艾力)")
    foreigner_rate: float = _rate(
        0.005, "share of persons who are foreigners (Latin name, passport)")
    common_given_name_share: float = _rate(
        0.45, "share of Han given names drawn from the weighted common-name table (伟 芳 秀英 …); "
        "the rest are built from character pools")
    records_per_entity: tuple[float, ...] = _table(
        lambda: (0.52, 0.22, 0.11, 0.06, 0.035, 0.022, 0.015, 0.009, 0.005, 0.004),
        "weights of 1, 2, … 10 source records per true customer")
    person_systems: Mapping[str, float] = _table(
        lambda: {"CORE": 0.30, "UW": 0.14, "CLAIM": 0.12, "TELE": 0.18, "FIN": 0.06, "WEB": 0.20},
        "weights of the sending system for a person's record")
    org_systems: Mapping[str, float] = _table(
        lambda: {"CORE": 0.34, "UW": 0.18, "CLAIM": 0.10, "TELE": 0.05, "FIN": 0.28, "WEB": 0.05},
        "weights of the sending system for an organisation's record")
    # --- later days -------------------------------------------------------
    initial_load_share: float = _rate(
        0.8, "with --days > 1: chance that a source record arrives in day 1 (else a later day)")
    update_rate: float = _rate(
        0.15, "with --days > 1: chance that a record not arriving on the last day is sent again "
        "on a later day with a newer updated_at")
    update_address_share: float = _rate(
        0.4, "share of updates that change the address (the others change the mobile)")
    # --- what the systems hold (not errors) -------------------------------
    person_phone_present: float = _rate(0.2, "persons' records with a landline")
    person_email_present: float = _rate(0.2, "persons' records with an e-mail address")
    org_phone_present: float = _rate(0.85, "organisations' records with a landline")
    org_mobile_present: float = _rate(0.5, "organisations' records with a contact mobile")
    org_email_present: float = _rate(0.35, "organisations' records with an e-mail address")
    # --- traps: groups of DIFFERENT true customers that must not merge ------
    trap_household: float = _trap(
        0.06, "persons", "household of 2-4: same surname, address, mobile and landline, "
        "different given names, birth dates and IDs")
    trap_twins: float = _trap(
        0.01, "persons", "twins: same surname, birth date, address and phones, similar given "
        "names (子豪/子杰), IDs differing only in the sequence and check digit")
    trap_namesake: float = _trap(
        0.02, "persons", "2-3 people with the same common name and birth year in one city")
    trap_legal_rep: float = _trap(
        0.06, "organisations", "2-4 companies of one legal representative (half of them also "
        "share address and landline)")
    trap_branch: float = _trap(
        0.05, "organisations", "a head office and one or two branches: the head office's name "
        "has no branch marker; a branch is named after another city and has its own address "
        "and landline (…有限公司广州分公司, 40 %), or sits in the head office's building, "
        "named after its district (…有限公司南山区分公司, 30 %) or not at all "
        "(…有限公司分公司, 30 %), sharing the landline half the time")
    trap_trade_name: float = _trap(
        0.05, "organisations", "2-3 companies with one trade name and industry in different cities")
    # --- errors: names ----------------------------------------------------
    name_empty: float = _err(0.002, "all records", "name left empty: the row fails admission")
    name_homophone: float = _err(
        0.03, "Chinese names", "one character replaced by a homophone (伟→玮, IME slip)")
    name_lookalike: float = _err(
        0.02, "Chinese names holding a character of the look-alike table",
        "one character replaced by a look-alike (己→已, 玲→珍)")
    name_traditional: float = _err(
        0.02, "Chinese names with a traditional form", "keyed in traditional characters (張偉)")
    name_space: float = _err(0.03, "Chinese person names", "stray space (张 伟, 张伟␣, 张　伟)")
    name_drop_char: float = _err(
        0.01, "Chinese person names of 3+ characters", "one given-name character dropped")
    minority_dot_variant: float = _err(
        0.3, "minority names with ·", "the · keyed as • ・ . ． space or nothing")
    latin_name_variant: float = _err(
        0.4, "foreigners' names", "order, case or comma changed (SMITH JOHN, Smith, John)")
    org_region_style: float = _err(
        0.15, "organisation names", "region moved: in front, short, in brackets or left out")
    org_legal_form: float = _err(
        0.1, "organisations that are 有限公司 or 有限责任公司", "有限公司 ↔ 有限责任公司")
    org_industry_dropped: float = _err(0.05, "organisation names", "industry word left out")
    org_halfwidth_brackets: float = _err(
        0.3, "organisation names with brackets", "（） keyed as ()")
    org_space: float = _err(0.03, "organisation names", "spaces inserted between name parts")
    org_typo: float = _err(0.02, "organisation names", "homophone in the trade name")
    branch_marker_dropped: float = _err(
        0.1, "branches' records", "branch part left off the name: the record reads like "
        "its head office's")
    legal_rep_missing: float = _err(0.1, "organisations", "legal representative left empty")
    legal_rep_typo: float = _err(0.03, "organisations with a legal rep", "homophone in the name")
    # --- errors: gender and birth date -----------------------------------
    gender_missing: float = _err(0.05, "persons", "gender left empty")
    gender_unmapped: float = _err(
        0.005, "persons with a gender", "a gender code not in the system's table (9, 未知)")
    birth_missing: float = _err(0.05, "persons", "birth date left empty")
    birth_other_format: float = _err(
        0.1, "persons with a birth date", "birth date in another contract format than the "
        "system's usual one (1985-03-07, 19850307, 1985/3/7, 1985年03月07日)")
    birth_day_month_swap: float = _err(
        0.02, "birth dates with day <= 12 and day != month", "day and month swapped")
    # --- errors: identity documents ---------------------------------------
    id_missing: float = _err(0.08, "persons", "id_type and id_number left empty")
    id_number_missing: float = _err(
        0.01, "records with an ID", "id_type kept, id_number empty")
    id_type_unmapped: float = _err(
        0.005, "records with an ID", "an id_type code not in the system's table (99, 其他)")
    id_legacy_15: float = _err(
        0.06, "resident IDs of people born before 1990", "15-digit legacy resident ID")
    id_typo: float = _err(0.01, "resident IDs", "one digit changed (check digit breaks)")
    id_transpose: float = _err(
        0.005, "resident IDs", "two adjacent different digits swapped")
    id_lower_x: float = _err(0.5, "resident IDs ending in X", "check digit keyed as lower-case x")
    id_fullwidth: float = _err(0.01, "resident IDs", "full-width digits (１１０１…)")
    id_separators: float = _err(0.01, "resident IDs", "spaces or hyphens inside the number")
    passport_typo: float = _err(0.02, "passports", "one character changed")
    org_id_missing: float = _err(0.15, "organisations", "no USCC or organisation code")
    org_code_instead: float = _err(
        0.18, "organisations with an ID", "the old 9-character organisation code sent "
        "(id_type ORG_CODE) instead of the USCC")
    uscc_typo: float = _err(0.01, "USCCs", "one character changed")
    uscc_lower: float = _err(0.01, "USCCs", "keyed in lower case")
    org_code_hyphen: float = _err(
        0.4, "organisation codes", "written XXXXXXXX-X (the certificate's layout)")
    org_code_typo: float = _err(0.01, "organisation codes", "one character changed")
    # --- errors: contact --------------------------------------------------
    mobile_missing: float = _err(0.1, "persons", "mobile left empty")
    mobile_changed: float = _err(
        0.08, "records with a mobile", "an older mobile of the same customer")
    mobile_country_code: float = _err(0.05, "records with a mobile", "+86 / 86 / 0086 in front")
    mobile_separators: float = _err(
        0.05, "records with a mobile", "hyphens or spaces (138-1234-5678)")
    phone_no_area_code: float = _err(0.05, "records with a landline", "area code left out")
    address_missing: float = _err(0.06, "all records", "address left empty")
    address_moved: float = _err(
        0.05, "records with an address", "an older address of the same customer")
    address_no_province: float = _err(0.15, "records with an address", "province left out")
    address_truncated: float = _err(
        0.08, "addresses with a building or room", "cut after the street number")
    address_traditional_hao: float = _err(0.03, "addresses holding 号", "號 for 号")
    address_space: float = _err(0.02, "records with an address", "stray spaces")
    # --- per-system overrides ----------------------------------------------
    system_overrides: Mapping[str, Mapping[str, float]] = _table(
        lambda: {
            "TELE": {"id_missing": 0.45, "birth_missing": 0.3, "address_missing": 0.35,
                     "mobile_missing": 0.0},
            "WEB": {"person_email_present": 0.75, "id_missing": 0.15, "address_missing": 0.2},
            "CLAIM": {"id_missing": 0.01, "mobile_missing": 0.05},
            "FIN": {"mobile_missing": 0.3, "person_email_present": 0.05},
        },
        "per-system values of any rate above (what each system really holds)")

    def rate(self, name: str, system: str) -> float:
        """The rate ``name`` as it applies to records sent by ``system``."""
        override = self.system_overrides.get(system, {})
        if name in override:
            return float(override[name])
        return float(getattr(self, name))

    def with_overrides(self, **changes: Any) -> GeneratorParams:
        """A copy with some fields changed (validated like a YAML file)."""
        return _validated(replace(self, **changes))


def error_kinds() -> tuple[str, ...]:
    """Every error kind the generator injects, in declaration order."""
    return tuple(f.name for f in fields(GeneratorParams) if f.metadata.get("kind") == "error")


def trap_kinds() -> tuple[str, ...]:
    """Every trap kind (groups of different customers), in declaration order."""
    return tuple(f.name for f in fields(GeneratorParams) if f.metadata.get("kind") == "trap")


def _rate_names() -> frozenset[str]:
    return frozenset(
        f.name for f in fields(GeneratorParams) if f.type in ("float", float)
    )


def _check_rate(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{where}: expected a rate between 0 and 1, got {value!r}")
    return float(value)


def _check_weights(where: str, value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"{where}: expected a mapping of source system to weight")
    out: dict[str, float] = {}
    for system, weight in value.items():
        if system not in SOURCE_SYSTEMS:
            raise ConfigError(f"{where}: unknown source system {system!r}, "
                              f"expected one of {', '.join(SOURCE_SYSTEMS)}")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ConfigError(f"{where}.{system}: expected a non-negative weight, got {weight!r}")
        out[str(system)] = float(weight)
    if sum(out.values()) <= 0:
        raise ConfigError(f"{where}: weights sum to zero")
    return out


def _validated(params: GeneratorParams) -> GeneratorParams:
    rates = _rate_names()
    for name in sorted(rates):
        _check_rate(name, getattr(params, name))
    rpe = params.records_per_entity
    if (not isinstance(rpe, list | tuple) or not rpe or sum(rpe) <= 0
            or any(isinstance(w, bool) or not isinstance(w, int | float) or w < 0 for w in rpe)):
        raise ConfigError(f"records_per_entity: expected non-negative weights, got {rpe!r}")
    overrides: dict[str, dict[str, float]] = {}
    for system, table in (params.system_overrides or {}).items():
        if system not in SOURCE_SYSTEMS or not isinstance(table, Mapping):
            raise ConfigError(f"system_overrides: {system!r} must be one of "
                              f"{', '.join(SOURCE_SYSTEMS)} with a mapping of rates")
        for name, value in table.items():
            if name not in rates:
                raise ConfigError(f"system_overrides.{system}: unknown rate {name!r}")
            overrides.setdefault(system, {})[name] = _check_rate(
                f"system_overrides.{system}.{name}", value)
    return replace(
        params,
        records_per_entity=tuple(float(w) for w in rpe),
        person_systems=_check_weights("person_systems", params.person_systems),
        org_systems=_check_weights("org_systems", params.org_systems),
        system_overrides=overrides,
    )


def load_params(path: Path | None = None) -> GeneratorParams:
    """Defaults, overridden by the fields a YAML file names.

    A missing file gives the defaults (the config directory may hold none);
    an unknown field or a bad value raises ConfigError naming it.
    """
    if path is None or not path.exists():
        return GeneratorParams()
    data = load_yaml(path)
    if data is None:
        return GeneratorParams()
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of generator parameters")
    known = {f.name: f for f in fields(GeneratorParams)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown generator parameter(s) {', '.join(unknown)}")
    changes = {k: v for k, v in data.items() if v is not None}
    for name in changes:
        if known[name].default is MISSING and known[name].default_factory is MISSING:
            raise ConfigError(f"{path}: {name} cannot be set")
    try:
        return _validated(replace(GeneratorParams(), **changes))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
