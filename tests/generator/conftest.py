"""Generated data sets shared by the generator tests (made once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.generator import GeneratorParams, generate
from matching.generator.core import GenerateSummary

#: No per-system overrides, so every error kind has one rate to test against.
FLAT = GeneratorParams().with_overrides(system_overrides={})


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    """60,000 rows in one day with flat rates, and the tag file."""
    out = tmp_path_factory.mktemp("flat")
    return out, generate(out, records=60_000, seed=11, params=FLAT, debug=True)


@pytest.fixture(scope="session")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    """6,000 rows over three nights with default rates."""
    out = tmp_path_factory.mktemp("nights")
    return out, generate(out, records=6_000, seed=5, days=3, debug=True)
