"""The ``ecif`` command line: contract columns, nothing lost, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from ecif.cli import main
from matching.standardise.columns import CONTRACT_OUTPUT_COLUMNS, INPUT_COLUMNS

ROWS = [
    ["CORE", "C1", "P", "張偉", "1", "19850307", "0", "440305850307123", "86 13812345678",
     "", "ZW@QQ.COM", "", "", "2026-11-01T08:00:00"],
    ["TELE", "T1", "P", "", "1", "", "", "", "", "", "", "", "", ""],               # no name
    ["WEB", "W1", "G", "腾讯计算机系统（深圳）有限公司", "", "", "USCC", "91440300708461136T",
     "", "0755-86013388", "", "", "马化腾", ""],
    ["FIN", "F1", "X", "李娜", "F", "", "", "", "", "", "", "", "", ""],              # bad type
    ["UW", "U1", "P", "李娜", "F", "1990-02-30", "99", "", "12345", "", "", "", "", ""],
]


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(INPUT_COLUMNS)
        writer.writerows(rows)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_standardise_writes_contract_columns_and_reports_rejects(tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(src, ROWS, "gbk")
    result = CliRunner().invoke(main, ["standardise", str(src), "--out", str(out),
                                       "--encoding", "gbk"])
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output and "2 rejected" in result.output
    with out.open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    assert header[: len(CONTRACT_OUTPUT_COLUMNS)] == list(CONTRACT_OUTPUT_COLUMNS)
    ok = {r["source_customer_id"]: r for r in _read(out)}
    assert set(ok) == {"C1", "W1", "U1"}
    c1 = ok["C1"]
    assert (c1["name"], c1["gender"], c1["birth_date"], c1["id_type"], c1["id_number"],
            c1["mobile"], c1["email"]) == ("张伟", "M", "1985-03-07", "RESIDENT_ID",
                                           "440305198503071238", "13812345678", "zw@qq.com")
    assert ok["W1"]["id_number"] == "91440300708461136T" and ok["W1"]["gender"] == ""
    u1 = set(ok["U1"]["issues"].split(";"))
    assert {"DATE_INVALID", "CODE_UNMAPPED", "MOBILE_INVALID"} <= u1
    bad = {r["source_customer_id"]: r for r in _read(tmp_path / "out.rejects.csv")}
    assert bad["T1"]["reasons"] == "NAME_MISSING"
    assert bad["F1"]["reasons"] == "TYPE_INVALID"
    assert bad["F1"]["name"] == "李娜"  # the raw row is kept


def test_standardise_missing_file_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["standardise", str(tmp_path / "x.csv"), "--out",
                                       str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("error:") and "no such file" in result.output


def test_standardise_wrong_encoding_is_one_line_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write(src, ROWS, "gbk")
    result = CliRunner().invoke(main, ["standardise", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert "try --encoding gbk" in result.output and result.output.count("\n") == 1


def test_generate_then_standardise(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--records", "300", "--seed", "3",
                                  "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g" / "truth.csv").exists()
    result = runner.invoke(main, ["standardise", str(tmp_path / "g" / "day_001.csv"),
                                  "--out", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    assert "read 300 rows" in result.output


def test_generate_rejects_bad_arguments(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--records", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "--records" in result.output


def test_match_without_a_model_is_one_line_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write(src, ROWS)
    result = CliRunner().invoke(main, ["match", str(src), "--out", str(tmp_path / "o"),
                                       "--model-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output.startswith("error: no trained persons model")
    assert result.output.count("\n") == 1


def test_eval_needs_truth(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    _write(src, ROWS)
    result = CliRunner().invoke(main, ["eval", str(src)])
    assert result.exit_code == 1
    assert "--truth" in result.output


def test_standardise_reports_a_short_row_with_its_line(tmp_path: Path) -> None:
    """A short row is never padded into a record (issue 12): it is rejected as
    ROW_TOO_SHORT with its line and fields; every other row reads as in a clean file."""
    clean, ragged = tmp_path / "clean.csv", tmp_path / "ragged.csv"
    _write(clean, ROWS)
    text = clean.read_text(encoding="utf-8")
    ragged.write_text(text.replace("UW,U1,P,李娜,F,1990-02-30,99,,12345,,,,,",
                                   "UW,U1,P,李娜,F"), encoding="utf-8")
    for src in (clean, ragged):
        result = CliRunner().invoke(main, ["standardise", str(src), "--out",
                                           str(tmp_path / f"{src.stem}.out.csv")])
        assert result.exit_code == 0, result.output
    assert text != ragged.read_text(encoding="utf-8")
    kept = _read(tmp_path / "clean.out.csv")
    assert [r["source_customer_id"] for r in kept] == ["C1", "W1", "U1"]
    assert _read(tmp_path / "ragged.out.csv") == kept[:2]
    bad = _read(tmp_path / "ragged.out.rejects.csv")
    assert [r["reasons"] for r in bad] == ["NAME_MISSING", "TYPE_INVALID", "ROW_TOO_SHORT"]
    assert bad[-1]["line_number"] == "6"
    assert json.loads(bad[-1]["fields"]) == ["UW", "U1", "P", "李娜", "F"]
