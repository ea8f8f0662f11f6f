"""Reading source files: UTF-8, UTF-8 with BOM, GBK, Parquet; clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matching.exceptions import InputFileError
from matching.sources import SourceChunk, read_source, read_source_chunks
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


def _careful(path: Path, encoding: str = "utf-8", chunk_rows: int = 100) -> list[SourceChunk]:
    return list(read_source(path, encoding, chunk_rows))


@pytest.mark.parametrize(("encoding", "arg"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"),
                                               ("gbk", "gbk")])
def test_careful_reader_reads_what_the_reference_reads(tmp_path: Path, encoding: str,
                                                       arg: str) -> None:
    path = tmp_path / "in.csv"
    rows = [*ROWS * 4, 'UW,U9,P,"王""五",M,,,,,,,"北京市\n朝阳区",,', "API,A1,P,x\"y,,,,,,,,,,"]
    path.write_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode(encoding))
    want = list(read_source_chunks(path, arg, 5))
    got = _careful(path, arg, 5)
    assert [len(c) for c in got] == [len(f) for f in want]
    for chunk, frame in zip(got, want, strict=True):
        assert not chunk.refused
        pd.testing.assert_frame_equal(chunk.table.to_pandas(), frame.reset_index(drop=True))
    assert np.concatenate([c.rows for c in got]).tolist() == list(range(1, len(rows) + 1))


def test_careful_reader_fills_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("source_system,source_customer_id,customer_type,name\nCORE,1,P,李娜\n",
                    encoding="utf-8")
    (chunk,) = _careful(path)
    assert chunk.table.column("mobile").to_pylist() == [""]
    assert set(INPUT_COLUMNS) <= set(chunk.table.column_names)


@pytest.mark.parametrize(("body", "reason", "line"), [
    ("CORE,1,P\n", "ROW_TOO_SHORT", 2),                  # a short row: pandas pads it
    ("   \n", "ROW_TOO_SHORT", 2),                        # a blank-looking row
    (ROWS[1] + ",x\n", "ROW_TOO_LONG", 2),                 # a surplus field that holds text
    (ROWS[0] + "\n" + ROWS[1][:20], "ROW_TOO_SHORT", 3),  # the last line cut off
    (ROWS[0] + '\nCORE,C9,P,"李', "ROW_TRUNCATED", 3),     # ... inside a quoted field
])
def test_careful_reader_refuses_rows_that_do_not_fit(tmp_path: Path, body: str, reason: str,
                                                     line: int) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "\n" + body, encoding="utf-8")
    chunks = _careful(path)
    refused = [r for c in chunks for r in c.refused]
    assert [(r.reason, r.line_number) for r in refused] == [(reason, line)]
    read = sum(c.table.num_rows for c in chunks)
    assert read + len(refused) == body.count("\n") + (not body.endswith("\n"))


def test_careful_reader_reads_trailing_commas(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "\n" + "".join(r + ",\n" for r in ROWS), encoding="utf-8")
    (chunk,) = _careful(path)
    assert not chunk.refused
    assert chunk.table.column("source_customer_id").to_pylist() == ["CL001", "C002", "W003"]
    assert chunk.table.column("updated_at").to_pylist()[0] == "2026-11-01T08:00:00"


def test_careful_reader_numbers_rows_past_a_bad_one_far_into_a_file(tmp_path: Path) -> None:
    """Arrow hands out whole chunks before it meets the bad row; Python's reader
    goes on from the first row not handed out, numbering as before."""
    path = tmp_path / "in.csv"
    n, bad = 160_000, 150_000
    lines = [f"CORE,C{i},P,李娜,,,,,,,,,," for i in range(1, n + 1)]
    lines[bad - 1] += ",surplus"
    lines[bad] += ","  # a trailing comma: read as the header says
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    chunks = _careful(path, chunk_rows=50_000)
    assert chunks[0].table.num_rows == 50_000
    rows = np.concatenate([c.rows for c in chunks])
    assert rows.tolist() == [i for i in range(1, n + 1) if i != bad]
    ids = [i for c in chunks for i in c.table.column("source_customer_id").to_pylist()]
    assert ids == [f"C{i}" for i in rows.tolist()]
    (refused,) = [r for c in chunks for r in c.refused]
    assert (refused.row_number, refused.line_number, refused.fields[-1]) == (
        bad, bad + 1, "surplus")


def test_careful_reader_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    for content, message in ((HEADER + ",name\n" + ROWS[0] + ",x\n", "named twice"),
                             ("", "empty file")):
        path.write_text(content, encoding="utf-8")
        with pytest.raises(InputFileError, match=message):
            _careful(path)
    path.write_bytes(TEXT.encode("gbk"))
    with pytest.raises(InputFileError, match=r"not valid utf-8 text at byte \d+ \(line 2\)"):
        _careful(path)
