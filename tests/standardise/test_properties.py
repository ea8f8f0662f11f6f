"""Hypothesis properties: standardising is idempotent, and the batch path
gives exactly what the per-record path gives, for any row."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.config import CodeMaps, load_code_maps
from matching.standardise.address import standardise_address
from matching.standardise.batch import standardise_chunks, standardise_frame
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS
from matching.standardise.dates import standardise_date
from matching.standardise.email import standardise_email
from matching.standardise.name import standardise_person_name
from matching.standardise.org import standardise_org_name
from matching.standardise.phone import standardise_landline, standardise_mobile
from matching.standardise.record import standardise_record
from matching.standardise.resident_id import standardise_resident_id
from matching.standardise.steps import _standardise_timestamp
from matching.standardise.text import clean_text

CODES = load_code_maps()

# Text drawn from what source systems send: CJK (simplified and traditional),
# full-width forms, digits, separators, the minority-name dots, brackets, and
# anything else unicode has.
_FRAGMENTS = [
    "张", "張", "伟", "偉", "欧阳", "歐陽", "单", "买买提", "·", "・", "•", "．", " ", "　",
    "１", "2", "X", "x", "-", "+86", "(", ")", "（", "）", "號", "号", "省", "市", "区",
    "广东", "深圳", "南山区", "北京", "朝阳区", "有限公司", "有限责任公司", "股份有限公司",
    "分公司", "支行", "科技", "@", ".", "qq.com", "年", "月", "日", "/", "John", "SMITH",
    ",", '"', "\n", "\r\n",  # what a CSV writer must quote
]
messy = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=8
).map("".join)
digits = st.text(alphabet="0123456789１２３４５６７８９０xX -+/年月日", max_size=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy)
def test_person_name_idempotent(raw: str) -> None:
    once = standardise_person_name(raw)
    twice = standardise_person_name(once.name)
    assert twice.name == once.name
    assert twice.name_plain == once.name_plain
    assert twice.pinyin == once.pinyin


@settings(max_examples=300, deadline=None)
@given(st.one_of(digits, messy))
def test_ids_dates_phones_idempotent(raw: str) -> None:
    rid = standardise_resident_id(raw)
    if rid.number is not None:
        assert standardise_resident_id(rid.number).number == rid.number
    for fn in (standardise_date, standardise_mobile, standardise_landline, standardise_email):
        value, _ = fn(raw)
        if value is not None:
            assert fn(value)[0] == value, fn.__name__


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), digits,
                 st.sampled_from(["2026-11-01T08:00:00", "2026-11-01T08:00:00Z", " 2026-11-01",
                                  "2026-11-01\t08:00", "２０２６-11-01", "2026-02-30"])))
def test_timestamp_shortcut_changes_nothing(raw: str) -> None:
    """Skipping clean_text for plain ASCII gives what going through it gives."""
    text = clean_text(raw)
    if text is None:
        assert _standardise_timestamp(raw) == (None, "", ())
    else:
        assert _standardise_timestamp(raw) == _standardise_timestamp(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy)
def test_address_and_org_name_idempotent(raw: str) -> None:
    addr = standardise_address(raw)
    assert standardise_address(addr.normalised).normalised == addr.normalised
    org = standardise_org_name(raw)
    again = standardise_org_name(org.name)
    assert (again.name, again.core, again.region, again.legal_form, again.branch) == (
        org.name, org.core, org.region, org.legal_form, org.branch)


row_strategy = st.fixed_dictionaries(
    {
        "source_system": st.sampled_from(["CORE", "UW", "CLAIM", "TELE", "FIN", "WEB", "API",
                                          "core", "", "X"]),
        "source_customer_id": st.sampled_from(["C1", "C2", "", "客户1", "C\x001", "\ufeffC1",
                                               "\x00", "K" * 151]),
        "customer_type": st.sampled_from(["P", "G", "p", "", "Z"]),
        "name": messy,
        "gender": st.sampled_from(["1", "2", "0", "M", "F", "男", "女", "male", "", "9"]),
        "birth_date": st.one_of(digits, st.sampled_from(["1985-03-07", "1985年3月7日"])),
        "id_type": st.sampled_from(["0", "01", "身份证", "I", "ID_CARD", "8", "51", "U", "7",
                                    "", "??"]),
        "id_number": st.one_of(digits, st.sampled_from(
            ["440305198503071238", "440305850307123", "91440300708461136T", "70846113-6"])),
        "mobile": digits,
        "phone": digits,
        "email": messy,
        "address": messy,
        "legal_rep": messy,
        "updated_at": st.sampled_from(["2026-11-01T08:00:00", "", "bad", "2026-11-01"]),
    }
)


def _per_record(rows: list[dict[str, str]]) -> tuple[list[list[str | None]], list[str]]:
    admitted, reasons = [], []
    for row in rows:
        out = standardise_record(row, CODES)
        if out.rejected:
            reasons.append(";".join(out.rejected))
        else:
            admitted.append([out.record[c] for c in OUTPUT_COLUMNS])
    return admitted, reasons


# Rows of a chunk share values, as real files do (the same name, ID or code
# on many rows), so that the batch path's grouping by distinct value is tested,
# not only its one-row-per-group case.
chunks = st.lists(row_strategy, min_size=1, max_size=8).flatmap(
    lambda pool: st.lists(
        st.tuples(st.sampled_from(pool), st.sampled_from(pool), st.sets(st.sampled_from(
            INPUT_COLUMNS))).map(lambda t: {c: (t[1] if c in t[2] else t[0])[c]
                                            for c in INPUT_COLUMNS}),
        min_size=1, max_size=30))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(row_strategy, min_size=1, max_size=25), chunks))
def test_batch_equals_per_record(rows: list[dict[str, str]]) -> None:
    frame = pd.DataFrame(rows, columns=list(INPUT_COLUMNS), dtype=object)
    result = standardise_frame(frame, CODES)
    expected_ok, expected_bad = _per_record(rows)
    got_ok = result.admitted.astype(object).where(result.admitted.notna(), None)
    assert got_ok.values.tolist() == expected_ok
    assert result.rejected["reasons"].tolist() == expected_bad
    assert len(result.admitted) + len(result.rejected) == len(rows)
    # The CSV the batch path writes is what pandas writes for the per-record rows.
    want = pd.DataFrame(expected_ok, columns=list(OUTPUT_COLUMNS), dtype=object)
    assert result.admitted_csv().decode("utf-8") == want.to_csv(
        header=False, index=False, lineterminator="\n")
    # An Arrow table of the same rows (the fast reader's chunks) gives the same.
    from_arrow = standardise_frame(pa.Table.from_pandas(frame, preserve_index=False), CODES)
    assert from_arrow.admitted_csv() == result.admitted_csv()
    pd.testing.assert_frame_equal(from_arrow.rejected, result.rejected)


def test_batch_fills_missing_columns_and_handles_empty_frames(codes: CodeMaps) -> None:
    row = {"source_system": "CORE", "source_customer_id": "C1", "customer_type": "P",
           "name": "李娜"}
    result = standardise_frame(pd.DataFrame([row], dtype=object), codes)
    assert result.admitted.values.tolist() == [
        [standardise_record(row, codes).record[c] for c in OUTPUT_COLUMNS]]
    empty = standardise_frame(pd.DataFrame(columns=list(INPUT_COLUMNS), dtype=object), codes)
    assert len(empty.admitted) == 0 and len(empty.rejected) == 0
    assert empty.admitted_csv() == b""


def test_pool_path_equals_in_process_path(codes: CodeMaps) -> None:
    """The multi-process path returns the same rows, in order, as one process."""
    rows = [
        {"source_system": "CORE", "source_customer_id": f"C{i}", "customer_type": "PG"[i % 2],
         "name": ["張偉", "", "欧阳 娜娜", "腾讯计算机系统（深圳）有限公司"][i % 4],
         "gender": "1", "birth_date": "19850307", "id_type": "0",
         "id_number": "440305850307123", "mobile": f"+86 138{i:08d}", "phone": "",
         "email": "", "address": "广东深圳南山区科技园1號", "legal_rep": "", "updated_at": ""}
        for i in range(45_000)
    ]
    frame = pd.DataFrame(rows, columns=list(INPUT_COLUMNS))
    chunks = [frame.iloc[i:i + 22_500] for i in range(0, len(frame), 22_500)]
    pooled = list(standardise_chunks(chunks, codes, workers=2))
    single = [standardise_frame(c, codes) for c in chunks]
    for got, want in zip(pooled, single, strict=True):
        pd.testing.assert_frame_equal(got.admitted, want.admitted)
        pd.testing.assert_frame_equal(got.rejected, want.rejected)
