"""The batch path's column-wise shortcuts give exactly what the per-record path
gives: the reference is :func:`standardise_record`, one row at a time, which runs
every step's plain function and none of the shortcuts (a step's ``batch`` and
``screen`` forms, the once-per-distinct-value grouping)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.config import load_code_maps
from matching.generator import generate
from matching.sources import read_source
from matching.standardise.batch import standardise_frame
from matching.standardise.columns import INPUT_COLUMNS, OUTPUT_COLUMNS
from matching.standardise.record import standardise_record
from matching.standardise.steps import _standardise_timestamp, _timestamps_batch

CODES = load_code_maps()


def _assert_same(rows: list[dict[str, str]]) -> None:
    """Batch (from a DataFrame and from Arrow, as the readers give it) == per record."""
    want_ok, want_bad = [], []
    for row in rows:
        out = standardise_record(row, CODES)
        if out.rejected:
            want_bad.append(";".join(out.rejected))
        else:
            want_ok.append([out.record[c] for c in OUTPUT_COLUMNS])
    frame = pd.DataFrame(rows, columns=list(INPUT_COLUMNS), dtype=object)
    for source in (frame, _arrow(frame)):
        got = standardise_frame(source, CODES)
        admitted = got.admitted.astype(object).where(got.admitted.notna(), None)
        assert admitted.values.tolist() == want_ok
        assert got.rejected["reasons"].tolist() == want_bad


def _arrow(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    return pa.Table.from_pandas(frame, preserve_index=False)


_PERSON = {"source_system": "CORE", "source_customer_id": "C1", "customer_type": "P",
           "name": "王安珊", "gender": "2", "birth_date": "2023-04-08", "id_type": "0",
           "id_number": "341022202304089626", "mobile": "15278732447", "phone": "",
           "email": "", "address": "", "legal_rep": "", "updated_at": ""}


def _rows(column: str, values: list[str]) -> list[dict[str, str]]:
    return [{**_PERSON, "source_customer_id": f"C{i}", column: v} for i, v in enumerate(values)]


# --- updated_at: the column-wise ISO 8601 reader -----------------------------

_offsets = st.one_of(
    st.sampled_from(["", "Z", "z", "-00:00", "+00:00", "+08:00", "-05:30"]),
    st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"),
              st.integers(0, 25), st.integers(0, 61)),
    st.builds(lambda sign, h, m: f"{sign}{h:02d}{m:02d}", st.sampled_from("+-"),
              st.integers(0, 23), st.integers(0, 59)),
    st.sampled_from(["+08", "+8:00", " +08:00", "+08:00:00", "UTC", "+08:00Z"]))
_fractions = st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=8).map(
    lambda f: "." + f), st.sampled_from([".000", ".000000", ",5", "."]))
_separators = st.sampled_from(["T", "T", " ", "t", "  ", "_", "T "])
# Times that are valid, in the shapes sources write them ...
_valid = st.builds(
    lambda when, sep, frac, tz: when.strftime("%Y-%m-%d") + sep + when.strftime("%H:%M:%S")
    + frac + tz,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    _separators, _fractions, _offsets)
# ... and fields one step out of range: 29 February of any year, the 31st of any
# month, hour 24, second 60, year 0 and 9999 with offsets that cross them.
_near = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, tz: (
        f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{frac}{tz}"),
    st.one_of(st.integers(0, 9999), st.sampled_from([1, 1000, 1001, 1900, 2000, 2100, 9998])),
    st.integers(0, 13), st.integers(0, 32), _separators, st.integers(0, 24),
    st.integers(0, 60), st.integers(0, 60), _fractions, _offsets)
timestamps = st.one_of(_valid, _near, st.sampled_from(["２０２４-05-23T06:52:42", "24-05-23T06:52:42",
                                                       "2024-5-23T06:52:42", "2024-05-23T6:52:42"]))


@pytest.mark.parametrize("value", [
    "2024-05-23T06:52:42-00:00", "2024-05-23T06:52:42+00:00", "2024-05-23T06:52:42z",
    "2100-02-29T00:00:00", "2000-02-29T00:00:00", "1900-02-29T12:00:00", "2024-02-29T23:59:59",
    "2023-04-31T00:00:00", "2024-12-31T23:59:59-23:59", "1001-01-01T00:00:00+23:59",
    "9998-12-31T23:59:59-23:59", "2024-05-23T06:52:42+24:00", "2024-05-23T06:52:42.000",
    "2024-05-23T06:52:42.0000001", "0999-12-31T23:59:59"])
def test_timestamp_edges_column_wise_equal_one_at_a_time(value: str) -> None:
    done, (keyed, instant) = _timestamps_batch(np.array([value], dtype=object))
    if done[0]:
        assert (keyed[0], instant[0], ()) == _standardise_timestamp(value)
    _assert_same(_rows("updated_at", [value]))


@settings(max_examples=400, deadline=None)
@given(st.lists(timestamps, min_size=1, max_size=30))
def test_timestamps_column_wise_equal_one_at_a_time(values: list[str]) -> None:
    done, (keyed, instant) = _timestamps_batch(np.array(values, dtype=object))
    for i, value in enumerate(values):
        if done[i]:
            assert (keyed[i], instant[i], ()) == _standardise_timestamp(value), value


def test_the_column_wise_reader_takes_the_common_shapes() -> None:
    """Not vacuous: the usual forms are read column-wise, the odd ones are left."""
    values = ["2024-05-23T06:52:42", "2024-05-23 06:52:42", "2024-05-23T06:52:42+08:00",
              "2024-05-23T06:52:42Z", "2024-05-23T06:52:42.5", "2024-05-23T06:52:42.000001-05:00",
              "2024-02-30T00:00:00", "20240523T065242", "2024-05-23T06:52:42+0800", None]
    done, (keyed, instant) = _timestamps_batch(np.array(values, dtype=object))
    assert done.tolist() == [True] * 6 + [False] * 4
    for i in range(6):
        assert (keyed[i], instant[i], ()) == _standardise_timestamp(values[i])
    assert keyed[3] == "2024-05-23T06:52:42+00:00" and instant[3] == "2024-05-23T06:52:42.000000"
    assert keyed[4] == "2024-05-23T06:52:42.500000"
    assert instant[0] == "2024-05-22T22:52:42.000000"  # no offset: China time


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(timestamps, st.text(max_size=25)), min_size=1, max_size=20))
def test_updated_at_batch_equals_per_record(values: list[str]) -> None:
    _assert_same(_rows("updated_at", values))


# --- varied real-world values, clean and dirty --------------------------------

_NAMES = ["王安珊", "張偉", "欧阳 娜娜", "歐陽娜娜", "买买提·吐尔逊", "買買提．吐爾遜", "於丽", "于丽",
          "李 四", "ＬＩ　Ｓｉ", "John SMITH", "smith, john", "O'Brien", "José Müller", "张先生",
          "王某", "李X", "陈\u00a0明", "刘\u200b洋", "赵钱孙", "诸葛亮", "司马 光", "", "  ", "123",
          "Zhang San", "zhang-san", "黄 Wei", "谭詠麟", "鍾欣桐", "龔", "𫗬", "N/A"]
_ADDRESSES = ["广东省深圳市南山区科技园1号", "廣東省深圳市南山區科技園１號", "北京市朝阳区建国路88号SOHO现代城",
              "上海 浦东新区 世纪大道100号", "黄山市休宁县和平大道10号星河新村25号楼6单元1901室",
              "中国广东深圳福田区 深南大道#6008", "湖南省怀化市通道侗族自治县城北街3号康城苑36栋2804室",
              "台灣省臺北市信義區", "香港九龍旺角", "无", "不详", "地址：北京", "10 Downing Street, London",
              "（广州）天河区体育西路一〇一号", "【杭州】西湖区文三路", "", "...", "上海市上海市黄浦区"]
_TIMES = ["2024-05-23T06:52:42", "2014-05-31T20:13:37+08:00", "2024-05-23 06:52:42",
          "2024-05-23T06:52:42.123Z", "2024/05/23 06:52", "20240523", "2024-05-23", "bad", "",
          "2099-01-01T00:00:00", "2024-02-30T00:00:00", "２０２４-05-23T06:52:42"]


def test_varied_chinese_and_latin_values_batch_equals_per_record() -> None:
    rows = []
    for i, name in enumerate(_NAMES * 2):
        rows.append({**_PERSON, "source_customer_id": f"P{i}", "name": name,
                     "address": _ADDRESSES[i % len(_ADDRESSES)],
                     "updated_at": _TIMES[i % len(_TIMES)],
                     "customer_type": "PG"[i % 5 == 4], "legal_rep": _NAMES[(i * 7) % len(_NAMES)]})
    _assert_same(rows)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parity")
    generate(out, records=6_000, seed=5)
    return out / "day_001.csv"


def test_generated_file_batch_equals_per_record(generated: Path) -> None:
    """Every column of every row of a generated file (all its error kinds)."""
    (chunk,) = list(read_source(generated, chunk_rows=10_000))
    rows = chunk.table.to_pandas().fillna("").to_dict("records")
    _assert_same(rows)


@pytest.mark.parametrize("column", ["email", "phone", "updated_at", "name"])
def test_cells_differing_after_a_nul_stay_apart(column: str) -> None:
    """A DataFrame's cells "a" and "a\\x00b" are two values, not one (pandas' string
    table stops at a NUL)."""
    _assert_same(_rows(column, ["", "\x00", "\x00a", "a", "a\x00", "a\x00b"]))
