"""What a careless source system sends must never corrupt the store (issue 12):
ragged and cut rows, sub-second and future times, a file that fails late, NUL
bytes and BOMs, over-long fields. Each case is a file an exporter really makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecif.ingest import ingest_files
from matching.exceptions import InputFileError
from matching.standardise.columns import INPUT_COLUMNS
from tests.store.helpers import person, query, write_csv

HEADER = ",".join(INPUT_COLUMNS)


def _line(row: dict[str, str]) -> str:
    return ",".join(row.get(c, "") for c in INPUT_COLUMNS)


def _rows(n: int, system: str = "CORE") -> list[dict[str, str]]:
    names = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨勇", "赵敏", "黄磊", "周杰", "吴刚"]
    return [person(system, f"C{i}", names[i % len(names)], mobile=f"1390000{i:04d}")
            for i in range(1, n + 1)]


def _records(store: Engine) -> dict[str, dict[str, object]]:
    frame = query(store, "SELECT record_key, source_system, source_customer_id, customer_type, "
                         "name, mobile, updated_at, version, raw FROM source_record")
    return {r["record_key"]: r for r in frame.to_dict("records")}


def _exceptions(store: Engine) -> list[dict[str, object]]:
    frame = query(store, "SELECT row_number, line_number, source_system, source_customer_id, "
                         "reasons, raw FROM exception_row ORDER BY id")
    return frame.to_dict("records")


# --- ragged rows -----------------------------------------------------------------------


def test_trailing_comma_on_every_row_is_read_correctly(store: Engine, tmp_path: Path) -> None:
    rows = _rows(3)
    path = tmp_path / "trailing.csv"
    path.write_text(HEADER + "\n" + "".join(_line(r) + ",\n" for r in rows), encoding="utf-8")
    got = ingest_files(store, [path], workers=1)
    assert (got.read, got.new, got.rejected) == (3, 3, 0)
    stored = _records(store)
    assert sorted(stored) == ["CORE:C1", "CORE:C2", "CORE:C3"]
    assert {r["customer_type"] for r in stored.values()} == {"P"}
    assert stored["CORE:C2"]["mobile"] == "13900000002"
    assert json.loads(str(stored["CORE:C2"]["raw"]))["source_system"] == "CORE"


def test_extra_field_on_one_row_is_refused_with_its_line_never_shifted(
        store: Engine, tmp_path: Path) -> None:
    rows = _rows(3)
    lines = [_line(r) for r in rows]
    lines[0] += ",surplus"  # the first data row: line 2 of the file
    path = tmp_path / "extra.csv"
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    got = ingest_files(store, [path], workers=1)
    assert (got.read, got.new, got.rejected) == (3, 2, 1)
    assert sorted(_records(store)) == ["CORE:C2", "CORE:C3"]
    (bad,) = _exceptions(store)
    assert (bad["row_number"], bad["line_number"]) == (1, 2)
    assert bad["reasons"] == "ROW_TOO_LONG"
    assert json.loads(str(bad["raw"]))["fields"][-1] == "surplus"  # the row as it came
    assert bad["source_customer_id"] is None  # no key read from a row we cannot place


def test_short_row_and_cut_last_line_are_reported(store: Engine, tmp_path: Path) -> None:
    rows = _rows(3)
    short = ",".join(_line(rows[1]).split(",")[:5])  # 5 of 14 fields
    cut = _line(rows[2])[: _line(rows[2]).index("1390000") + 5]  # cut inside the mobile
    path = tmp_path / "short.csv"
    path.write_text(HEADER + "\n" + _line(rows[0]) + "\n" + short + "\n" + cut,
                    encoding="utf-8")
    got = ingest_files(store, [path], workers=1)
    assert (got.read, got.new, got.rejected) == (3, 1, 2)
    assert list(_records(store)) == ["CORE:C1"]
    bad = _exceptions(store)
    assert [(b["line_number"], b["reasons"]) for b in bad] == [(3, "ROW_TOO_SHORT"),
                                                              (4, "ROW_TOO_SHORT")]


def test_last_line_cut_inside_a_quoted_field_is_reported(store: Engine,
                                                         tmp_path: Path) -> None:
    rows = _rows(2)
    last = _line(rows[1]).rsplit(",", 3)[0] + ',"北京市朝阳区建国'  # the address, cut
    path = tmp_path / "cut.csv"
    path.write_text(HEADER + "\n" + _line(rows[0]) + "\n" + last, encoding="utf-8")
    got = ingest_files(store, [path], workers=1)
    assert (got.new, got.rejected) == (1, 1)
    (bad,) = _exceptions(store)
    assert (bad["line_number"], bad["reasons"]) == (3, "ROW_TRUNCATED")


# --- version order -------------------------------------------------------------------


def test_sub_second_versions_keep_the_newest_within_one_file(store: Engine,
                                                            tmp_path: Path) -> None:
    newer = person("UW", "U1", "王芳", mobile="13900000002", updated="2026-11-02T09:00:00.900")
    older = person("UW", "U1", "王芳", mobile="13900000001", updated="2026-11-02T09:00:00.100")
    ingest_files(store, [write_csv(tmp_path / "a.csv", [newer, older])], workers=1)
    assert _records(store)["UW:U1"]["mobile"] == "13900000002"


def test_sub_second_versions_keep_the_newest_across_nights(store: Engine,
                                                          tmp_path: Path) -> None:
    ingest_files(store, [write_csv(tmp_path / "1.csv", [person(
        "UW", "U1", "王芳", mobile="13900000001", updated="2026-11-02T09:00:00.100+08:00")])],
        workers=1)
    got = ingest_files(store, [write_csv(tmp_path / "2.csv", [person(
        "UW", "U1", "王芳", mobile="13900000002", updated="2026-11-02T01:00:00.900Z")])],
        workers=1)
    assert got.updated == 1
    row = _records(store)["UW:U1"]
    assert (row["mobile"], row["version"]) == ("13900000002", 2)


def test_future_updated_at_is_quarantined_and_does_not_block_updates(
        store: Engine, tmp_path: Path) -> None:
    ingest_files(store, [write_csv(tmp_path / "1.csv", [
        person("UW", "U1", "王芳", mobile="13900000001", updated="2026-11-01T09:00:00")])],
        workers=1)
    got = ingest_files(store, [write_csv(tmp_path / "2.csv", [
        person("UW", "U1", "王芳", mobile="13900000009", updated="2099-01-01T00:00:00")])],
        workers=1)
    assert (got.updated, got.rejected) == (0, 1)
    assert got.reject_counts == {"UPDATED_AT_FUTURE": 1}
    got = ingest_files(store, [write_csv(tmp_path / "3.csv", [
        person("UW", "U1", "王芳", mobile="13900000002", updated="2026-11-03T09:00:00")])],
        workers=1)
    assert got.updated == 1
    assert _records(store)["UW:U1"]["mobile"] == "13900000002"
    (bad,) = _exceptions(store)
    assert bad["reasons"] == "UPDATED_AT_FUTURE" and bad["source_customer_id"] == "U1"
    assert json.loads(str(bad["raw"]))["mobile"] == "13900000009"


# --- NUL bytes, BOMs, lengths ----------------------------------------------------------


def test_nul_bytes_never_cut_a_field_or_change_a_key(store: Engine, tmp_path: Path) -> None:
    row = person("CORE", "C1", "张伟", mobile="13800138000")
    line = _line(row).replace("C1", "C\x001").replace("13800138000", "138001\x0038000")
    path = tmp_path / "nul.csv"
    path.write_text(HEADER + "\n" + line + "\n", encoding="utf-8")
    got = ingest_files(store, [path], workers=1)
    assert got.new == 1
    stored = _records(store)
    assert list(stored) == ["CORE:C1"]
    assert stored["CORE:C1"]["mobile"] == "13800138000"
    assert json.loads(str(stored["CORE:C1"]["raw"]))["mobile"] == "138001\x0038000"  # as sent


def test_bom_in_the_middle_of_a_file_does_not_make_a_second_record(
        store: Engine, tmp_path: Path) -> None:
    first = person("CORE", "C1", "张伟", mobile="13800138000", updated="2026-11-01T09:00:00")
    again = person("CORE", "C1", "张伟", mobile="13800138001", updated="2026-11-02T09:00:00")
    path = tmp_path / "cat.csv"  # two exports joined with cat, the second with its BOM
    path.write_text("\ufeff" + HEADER + "\n" + _line(first) + "\n\ufeff" + _line(again) + "\n",
                    encoding="utf-8")
    got = ingest_files(store, [path], workers=1)
    assert (got.new, got.rejected) == (1, 0)
    stored = _records(store)
    assert list(stored) == ["CORE:C1"]
    assert stored["CORE:C1"]["mobile"] == "13800138001"


def test_over_long_fields_are_rejected_with_an_issue_code(store: Engine,
                                                         tmp_path: Path) -> None:
    rows = [person("CORE", "C1", "张" * 349_525),
            person("CORE", "K" * 400, "李娜"),
            person("CORE", "C3", "王芳", mobile="13900000003")]
    got = ingest_files(store, [write_csv(tmp_path / "long.csv", rows)], workers=1)
    assert (got.new, got.rejected) == (1, 2)
    assert got.reject_counts == {"FIELD_TOO_LONG": 2}
    bad = _exceptions(store)
    assert len(json.loads(str(bad[0]["raw"]))["name"]) == 349_525  # the raw row, whole
    assert list(_records(store)) == ["CORE:C3"]


# --- all or nothing --------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_failing_late_loads_nothing_whatever_the_workers(
        store: Engine, tmp_path: Path, workers: int) -> None:
    path = tmp_path / "late.csv"
    body = "".join(_line(r) + "\n" for r in _rows(45_000))
    path.write_bytes((HEADER + "\n" + body).encode("utf-8") + b"CORE,C\xff\xfe,P,x\n")
    with pytest.raises(InputFileError, match="not valid utf-8"):
        ingest_files(store, [path], workers=workers, chunk_rows=20_000)
    assert query(store, "SELECT count(*) AS n FROM source_record")["n"].iloc[0] == 0
    assert query(store, "SELECT count(*) AS n FROM exception_row")["n"].iloc[0] == 0
    runs = query(store, "SELECT status FROM ingest_run")["status"].tolist()
    assert runs == ["failed"]


def test_future_tolerance_comes_from_config(tmp_path: Path) -> None:
    from ecif.ingest import future_tolerance
    from matching.config import DEFAULT_CONFIG_DIR
    from matching.exceptions import ConfigError

    assert future_tolerance(DEFAULT_CONFIG_DIR).total_seconds() == 3600
    (tmp_path / "ingest.yaml").write_text("future_tolerance_minutes: 5\n", encoding="utf-8")
    assert future_tolerance(tmp_path).total_seconds() == 300
    (tmp_path / "ingest.yaml").write_text("future_tolerance_minutes: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="future_tolerance_minutes"):
        future_tolerance(tmp_path)
