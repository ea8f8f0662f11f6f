"""Reading source files: UTF-8, UTF-8 with BOM, GBK, Parquet; clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.exceptions import InputFileError
from matching.sources import NotArrowReadable, read_source_chunks, read_source_tables
from matching.standardise.columns import INPUT_COLUMNS

HEADER = ",".join(INPUT_COLUMNS)
ROWS = [
    "CLAIM,CL001,P,張偉,男,1985年03月07日,身份证,440305198503071238,+86 138-1234-5678,,,"
    "广东省深圳市南山区科技园1號,,2026-11-01T08:00:00",
    "CORE,C002,P,NA,1,,,,,,,,,",
    'WEB,W003,G,"腾讯计算机系统（深圳）有限公司,",,,USCC,91440300708461136T,,0755-86013388,,,马化腾,',
]
TEXT = HEADER + "\n" + "\n".join(ROWS) + "\n"


def _read(path: Path, encoding: str = "utf-8", chunk_rows: int = 100) -> pd.DataFrame:
    return pd.concat(list(read_source_chunks(path, encoding, chunk_rows)), ignore_index=True)


@pytest.mark.parametrize(("encoding", "arg"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"),
                                               ("gbk", "gbk"), ("gbk", "GBK")])
def test_csv_encodings_read_alike(tmp_path: Path, encoding: str, arg: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(TEXT.encode(encoding))
    frame = _read(path, arg)
    assert list(frame.columns) == list(INPUT_COLUMNS)  # a BOM does not leak into the header
    assert frame["name"].tolist() == ["張偉", "NA", "腾讯计算机系统（深圳）有限公司,"]
    assert frame["birth_date"].tolist() == ["1985年03月07日", "", ""]  # empty stays ""


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(TEXT, encoding="utf-8")
    frame = _read(csv_path)
    pq_path = tmp_path / "in.parquet"
    frame.to_parquet(pq_path, index=False)
    pd.testing.assert_frame_equal(_read(pq_path), frame)


def test_chunks_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS * 5) + "\n", encoding="utf-8")
    sizes = [len(c) for c in read_source_chunks(path, "utf-8", 4)]
    assert sizes == [4, 4, 4, 3]


def test_missing_columns_are_optional_except_the_key(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("source_system,source_customer_id,customer_type,name\nCORE,1,P,李娜\n",
                    encoding="utf-8")
    frame = _read(path)
    assert frame.loc[0, "mobile"] == ""
    bad = tmp_path / "bad.csv"
    bad.write_text("source_system,name\nCORE,李娜\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="source_customer_id, customer_type"):
        _read(bad)


def test_gbk_read_as_utf8_says_try_gbk(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(TEXT.encode("gbk"))
    with pytest.raises(InputFileError, match="try --encoding gbk"):
        _read(path)


@pytest.mark.parametrize(("content", "message"), [(b"", "empty file"),
                                                  (b"\x00\x01garbage", "missing required")])
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        _read(path)


def test_missing_file_and_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        _read(tmp_path / "nope.csv")
    path = tmp_path / "in.csv"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown encoding 'klingon'"):
        _read(path, "klingon")


def test_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    assert sum(len(c) for c in read_source_chunks(path)) == 0
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="missing required"):
        list(read_source_chunks(path))


@pytest.mark.parametrize(("encoding", "arg"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"),
                                               ("gbk", "gbk")])
def test_arrow_reader_reads_what_the_reference_reads(tmp_path: Path, encoding: str,
                                                     arg: str) -> None:
    path = tmp_path / "in.csv"
    rows = [*ROWS * 4, 'UW,U9,P,"王""五",M,,,,,,,"北京市\n朝阳区",,', "API,A1,P,x\"y,,,,,,,,,,"]
    path.write_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode(encoding))
    want = list(read_source_chunks(path, arg, 5))
    got = list(read_source_tables(path, arg, 5))
    assert [len(t) for t in got] == [len(f) for f in want]
    for table, frame in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(table.to_pandas(), frame.reset_index(drop=True))


def test_arrow_reader_fills_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("source_system,source_customer_id,customer_type,name\nCORE,1,P,李娜\n",
                    encoding="utf-8")
    (table,) = read_source_tables(path)
    assert table.column("mobile").to_pylist() == [""]
    assert set(INPUT_COLUMNS) <= set(table.column_names)


@pytest.mark.parametrize("content", [
    HEADER + "\nCORE,1,P\n",                     # a short row: pandas pads it
    HEADER + "\n   \n",                          # a blank-looking row
    HEADER + ",name\n" + ROWS[0] + ",x\n",       # duplicate column names
    "",                                          # empty file: the reference gives the error
])
def test_arrow_reader_refuses_what_it_would_read_differently(tmp_path: Path,
                                                            content: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NotArrowReadable):
        list(read_source_tables(path))


def test_arrow_reader_refuses_gbk_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(TEXT.encode("gbk"))
    with pytest.raises(NotArrowReadable):
        list(read_source_tables(path))
