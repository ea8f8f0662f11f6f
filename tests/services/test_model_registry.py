"""A model belongs to its store: two stores of different data in one checkout
each train and score with their own model; versions are listed, pinned and
kept; the batch writes no file into the checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from ecif.cli import main
from ecif.ingest import ingest_files
from ecif.services.base import BATCH, unit_of_work
from ecif.services.model_registry import active_models, list_versions, save_version
from matching.exceptions import NotFound
from matching.generator import generate
from models.db import init_db, make_engine
from tests.store.helpers import query

REPO = Path(__file__).parents[2]


def _checkout_state() -> str:
    """What git sees in the checkout (untracked files included); '' outside git."""
    try:
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                              cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


@pytest.fixture(scope="module")
def two_datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("two")
    generate(base / "a", records=1500, seed=11, days=1, fmt="csv")
    generate(base / "b", records=1500, seed=22, days=1, fmt="csv")
    return base / "a" / "day_001.csv", base / "b" / "day_001.csv"


def test_each_store_trains_and_scores_with_its_own_model(
        tmp_path: Path, two_datasets: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = _checkout_state()
    versions = []
    for name, data in zip(("a", "b"), two_datasets, strict=True):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        init_db(engine)
        ingest_files(engine, [data], workers=1)
        from dataclasses import replace

        from ecif.batch import run_batch
        from matching.config import DEFAULT_CONFIG_DIR
        from matching.engine.config import load_engine_config

        # model_dir points at an empty folder: the batch must not look there
        config = replace(load_engine_config(), model_dir=tmp_path / "nowhere")
        run = run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR, workers=1)
        with engine.connect() as conn:
            active = {t: m.version for t, m in active_models(conn).items()}
            stored = list_versions(conn)
        assert set(active) == {"P", "G"}
        assert run.counts["match.records_total"] > 0
        used = query(engine, "SELECT model_versions FROM batch_run")["model_versions"].iloc[0]
        assert set(active.values()) == set(__import__("json").loads(used).values())
        assert set(stored["created_by"]) == {"batch"} and stored["active"].all()
        versions.append(active)
        engine.dispose()
    assert versions[0]["P"] != versions[1]["P"]  # trained on different data
    assert not (tmp_path / "nowhere").exists()
    assert _checkout_state() == before  # nothing written into the checkout


def test_pinned_version_stays_active_and_unknown_versions_are_refused(
        store: Engine, sample_models: Path) -> None:
    from tests.store.helpers import use_models

    use_models(store, sample_models)
    with store.connect() as conn:
        person = active_models(conn)["P"]
        pinned = person.version
    with unit_of_work(store) as conn:
        from ecif.services.model_registry import use_version

        assert use_version(conn, pinned, actor=BATCH) == "P"
        retrained = person.__class__(person.customer_type, "person-000000000000",
                                     person.trained_at, person.records, person.splink)
        saved = save_version(conn, retrained, actor=BATCH)
        assert not saved.activated and saved.kept == pinned
        with pytest.raises(NotFound, match="person-nope"):
            use_version(conn, "person-nope", actor=BATCH)
    with store.connect() as conn:
        assert active_models(conn)["P"].version == pinned
        assert len(list_versions(conn)) == 3


def test_model_commands(store_url: str, sample_models: Path, tmp_path: Path) -> None:
    env = {"ECIF_DATABASE_URL": store_url, "ECIF_WORKERS": "1"}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    listed = runner.invoke(main, ["model", "list"], env=env)
    assert listed.exit_code == 0 and "no models stored yet" in listed.output
    imported = runner.invoke(main, ["model", "import", str(sample_models / "person.json")],
                             env=env)
    assert imported.exit_code == 0 and "(active)" in imported.output
    listed = runner.invoke(main, ["model", "list"], env=env)
    assert listed.output.startswith("* person-")
    version = listed.output.split()[1]
    used = runner.invoke(main, ["model", "use", version], env=env)
    assert used.exit_code == 0 and "pinned" in used.output
    missing = runner.invoke(main, ["model", "use", "person-x"], env=env)
    assert missing.exit_code == 1 and missing.stderr.startswith("error: model version")
