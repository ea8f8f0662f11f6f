"""Deployment settings come from the environment, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from ecif.settings import REPO_ROOT, load_settings


def test_defaults_are_embedded() -> None:
    s = load_settings({})
    assert s.database_url == f"sqlite:///{REPO_ROOT / 'data' / 'ecif.db'}"
    assert s.config_dir == REPO_ROOT / "config"
    assert s.workers >= 1


def test_environment_overrides(tmp_path: Path) -> None:
    s = load_settings({"ECIF_DATABASE_URL": "postgresql+psycopg://u@h/db",
                       "ECIF_CONFIG_DIR": str(tmp_path), "ECIF_DATA_DIR": str(tmp_path),
                       "ECIF_WORKERS": "0"})
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.config_dir == tmp_path and s.data_dir == tmp_path
    assert s.workers == 1
