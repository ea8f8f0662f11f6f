"""Same seed, same bytes; chunking never changes the output; later nights."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.generator import generate
from matching.generator.core import GenerateSummary
from tests.generator.conftest import read


def _bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("fmt, encoding", [("csv", "utf-8"), ("csv", "gbk"), ("parquet", "utf-8")])
def test_same_seed_same_bytes_whatever_the_chunks(tmp_path: Path, fmt: str, encoding: str) -> None:
    a = generate(tmp_path / "a", records=3_000, seed=2, days=2, fmt=fmt, encoding=encoding)
    generate(tmp_path / "b", records=3_000, seed=2, days=2, fmt=fmt, encoding=encoding,
             chunk_records=97)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert [p.name for p in a.files] == ["day_001." + fmt,
                                         "day_002." + fmt, "truth.csv"]


def test_other_seed_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", records=1_000, seed=2)
    generate(tmp_path / "b", records=1_000, seed=3)
    assert _bytes(tmp_path / "a") != _bytes(tmp_path / "b")


def test_gbk_file_holds_the_same_rows(tmp_path: Path) -> None:
    generate(tmp_path / "u", records=2_000, seed=4)
    generate(tmp_path / "g", records=2_000, seed=4, encoding="gbk")
    utf8 = (tmp_path / "u" / "day_001.csv").read_text(encoding="utf-8")
    assert (tmp_path / "g" / "day_001.csv").read_text(encoding="gbk") == utf8


def test_parquet_holds_the_same_rows(tmp_path: Path) -> None:
    generate(tmp_path / "c", records=2_000, seed=4)
    generate(tmp_path / "p", records=2_000, seed=4, fmt="parquet")
    pd.testing.assert_frame_equal(read(tmp_path / "c" / "day_001.csv"),
                                  read(tmp_path / "p" / "day_001.parquet"))


def test_later_nights_send_updates_with_newer_times(nights: tuple[Path, GenerateSummary]) -> None:
    out, summary = nights
    days = [read(out / f"day_00{d}.csv").assign(day=d) for d in (1, 2, 3)]
    rows = pd.concat(days)
    assert all(len(d) for d in days)
    dup = rows[rows.duplicated(["source_system", "source_customer_id"], keep=False)]
    assert len(dup) > 100
    assert sum(summary.update_counts.values()) == len(dup) - dup.drop_duplicates(
        ["source_system", "source_customer_id"]).shape[0]
    for _, group in dup.groupby(["source_system", "source_customer_id"]):
        group = group.sort_values("day")
        first, last = group.iloc[0], group.iloc[-1]
        assert last["day"] > first["day"]
        assert last["updated_at"][:19] > first["updated_at"][:19]
        assert (last["mobile"], last["address"]) != (first["mobile"], first["address"])
        for d in range(2, 4):
            assert not rows[(rows["day"] == d)].duplicated(
                ["source_system", "source_customer_id"]).any()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    from matching.exceptions import ECIFError

    with pytest.raises(ECIFError, match="encoding"):
        generate(tmp_path, records=10, seed=1, encoding="latin-1")
    with pytest.raises(ECIFError, match="format"):
        generate(tmp_path, records=10, seed=1, fmt="xlsx")
