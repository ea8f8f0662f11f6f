"""Deployment settings, read from environment variables in one place.

| variable | default |
|---|---|
| ``ECIF_DATABASE_URL`` | ``sqlite:///<repo>/data/ecif.db`` (embedded) |
| ``ECIF_CONFIG_DIR`` | ``<repo>/config`` |
| ``ECIF_DATA_DIR`` | ``<repo>/data`` (the embedded database, demo output) |
| ``ECIF_WORKERS`` | every core |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from matching.config import DEFAULT_CONFIG_DIR

__all__ = ["Settings", "load_settings", "REPO_ROOT"]

REPO_ROOT = DEFAULT_CONFIG_DIR.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_dir: Path
    data_dir: Path
    workers: int


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    data_dir = Path(env.get("ECIF_DATA_DIR") or REPO_ROOT / "data")
    default_db = f"sqlite:///{data_dir / 'ecif.db'}"
    workers = int(env.get("ECIF_WORKERS") or os.cpu_count() or 1)
    return Settings(
        database_url=env.get("ECIF_DATABASE_URL") or default_db,
        config_dir=Path(env.get("ECIF_CONFIG_DIR") or DEFAULT_CONFIG_DIR),
        data_dir=data_dir,
        workers=max(1, workers),
    )
