"""Golden records by survivorship rules: each strategy, ties, singletons."""

from __future__ import annotations

import pandas as pd
import pytest

from matching.exceptions import ConfigError
from matching.survivorship import Survivorship, golden_records, load_survivorship

RULES = Survivorship(
    source_priority=("CORE", "UW", "WEB"),
    fields={"name": ("valid", "source_priority", "most_recent"),
            "gender": ("valid", "source_priority"),
            "id_number": ("valid", "source_priority", "most_recent"),
            "mobile": ("most_recent", "source_priority"),
            "address": ("most_complete", "most_recent")})


def _records(rows: list[dict[str, str | None]]) -> pd.DataFrame:
    cols = ["customer_no", "record_key", "source_system", "updated_at", "id_valid", "name",
            "gender", "id_type", "id_number", "mobile", "address"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def test_each_strategy_picks_its_value() -> None:
    recs = _records([
        {"customer_no": "C1", "record_key": "WEB:1", "source_system": "WEB",
         "updated_at": "2026-11-03T00:00:00", "id_valid": "1", "name": "张伟", "gender": "M",
         "id_type": "RESIDENT_ID", "id_number": "110101199003070011", "mobile": "13900000003",
         "address": "北京市东城区"},
        {"customer_no": "C1", "record_key": "CORE:1", "source_system": "CORE",
         "updated_at": "2026-11-01T00:00:00", "id_valid": "0", "name": "张伟", "gender": "U",
         "id_type": "RESIDENT_ID", "id_number": "110101199003070012", "mobile": "13900000001",
         "address": "北京市东城区景山街道38号"},
        {"customer_no": "C1", "record_key": "UW:1", "source_system": "UW",
         "updated_at": "2026-11-02T00:00:00", "id_valid": "", "name": "張偉", "gender": "F",
         "mobile": None, "address": ""}])
    golden = golden_records(recs, RULES).set_index("customer_no").loc["C1"]
    assert golden["name"] == "张伟"                      # source priority: CORE first
    assert golden["gender"] == "F"                       # valid (M/F) before U, then UW over WEB
    assert golden["id_number"] == "110101199003070011"   # the valid ID, though WEB ranks last
    assert golden["id_type"] == "RESIDENT_ID"            # travels with the chosen ID
    assert golden["mobile"] == "13900000003"             # most recent
    assert golden["address"] == "北京市东城区景山街道38号"  # most complete


def test_order_of_records_does_not_matter_and_singletons_keep_their_values() -> None:
    recs = _records([
        {"customer_no": "C2", "record_key": "CORE:2", "source_system": "CORE",
         "updated_at": "2026-11-01", "name": "李娜", "gender": "F", "mobile": ""},
        {"customer_no": "C3", "record_key": "UW:3", "source_system": "UW",
         "updated_at": "2026-11-01", "name": "王芳", "gender": "F", "mobile": "13800000000"},
        {"customer_no": "C3", "record_key": "WEB:3", "source_system": "WEB",
         "updated_at": "2026-11-01", "name": "王芳", "gender": "F", "mobile": "13800000000"}])
    a = golden_records(recs, RULES)
    b = golden_records(recs.iloc[::-1].reset_index(drop=True), RULES)
    pd.testing.assert_frame_equal(a, b)
    single = a.set_index("customer_no").loc["C2"]
    assert single["name"] == "李娜" and single["mobile"] is None


def test_shipped_rules_load_and_unknown_strategy_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "name" in load_survivorship().fields
    (tmp_path / "survivorship.yaml").write_text(
        "source_priority: [CORE]\nfields:\n  name: [loudest]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="loudest"):
        load_survivorship(tmp_path)


def test_golden_record_is_the_row_wise_twin_of_golden_records() -> None:
    """Random customers of 1-5 records with clashing values, times, validity and
    sources: golden_record on each customer's records equals golden_records' row."""
    import random

    from matching.survivorship import golden_record

    rng = random.Random(11)
    systems = ["CORE", "UW", "WEB", "CLAIM", None]
    times = ["2026-11-01T00:00:00", "2026-11-02T00:00:00", "2026-11-03T00:00:00", None, ""]
    rows = []
    for c in range(400):
        for r in range(rng.randint(1, 5)):
            rows.append({
                "customer_no": f"C{c:04d}", "record_key": f"{rng.choice('ABC')}:{c}:{r}",
                "source_system": rng.choice(systems), "updated_at": rng.choice(times),
                "id_valid": rng.choice(["1", "0", "", None]),
                "name": rng.choice(["张伟", "張偉", "", None, "张伟伟"]),
                "gender": rng.choice(["M", "F", "U", "", None]),
                "id_type": rng.choice(["RESIDENT_ID", "PASSPORT", None]),
                "id_number": rng.choice(["110101199003070011", "E1234", "", None]),
                "mobile": rng.choice(["13900000001", "13900000002", None]),
                "address": rng.choice(["北京市", "北京市东城区", "北京市东城区景山街道38号",
                                       "", None])})
    recs = _records(rows)
    batch = golden_records(recs, RULES).set_index("customer_no")
    for no, group in recs.groupby("customer_no"):
        records = group.astype(object).where(group.notna(), None).to_dict("records")
        one = golden_record(records, RULES)
        assert one == {k: batch.loc[no, k] for k in one}, no
        assert set(one) == set(batch.columns)
