"""Deployment settings, read from environment variables in one place.

| variable | default |
|---|---|
| ``ECIF_DATABASE_URL`` | ``sqlite:///<data dir>/ecif.db`` (embedded) |
| ``ECIF_CONFIG_DIR`` | ``<repo>/config`` (installed: the packaged defaults) |
| ``ECIF_DATA_DIR`` | ``<repo>/data`` (installed: ``./ecif-data``): database, demo output |
| ``ECIF_WORKERS`` | every core |
| ``ECIF_SECRET_KEY`` | the web app's session key (a random one per start when unset) |
| ``ECIF_ENGINE`` | ``duckdb``; ``spark`` runs the match stage on Spark (docs/spark.md) |
| ``ECIF_SPARK_MASTER`` | ``local[2]``; a cluster URL (``yarn``, ``k8s://...``) in production |
| ``ECIF_SPARK_STAGING`` | records handed to Spark (Parquet), read by the executors; a temp dir |
| ``ECIF_SPARK_CHECKPOINT_DIR`` | Splink's tables on Spark (``hdfs:///...``); a temp dir |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from matching.config import DEFAULT_CONFIG_DIR

__all__ = ["Settings", "load_settings", "REPO_ROOT", "sample_dir", "memory_dir"]


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


#: The checkout this code runs from (None for an installed wheel).
REPO_ROOT: Path | None = _checkout()


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_dir: Path
    data_dir: Path
    workers: int
    engine: str = "duckdb"
    spark_master: str = "local[2]"
    spark_staging: str | None = None
    spark_checkpoint_dir: str | None = None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    default_data = REPO_ROOT / "data" if REPO_ROOT else Path.cwd() / "ecif-data"
    data_dir = Path(env.get("ECIF_DATA_DIR") or default_data)
    default_db = f"sqlite:///{data_dir / 'ecif.db'}"
    workers = int(env.get("ECIF_WORKERS") or os.cpu_count() or 1)
    return Settings(
        database_url=env.get("ECIF_DATABASE_URL") or default_db,
        config_dir=Path(env.get("ECIF_CONFIG_DIR") or DEFAULT_CONFIG_DIR),
        data_dir=data_dir,
        workers=max(1, workers),
        engine=(env.get("ECIF_ENGINE") or "duckdb").strip().lower(),
        spark_master=env.get("ECIF_SPARK_MASTER") or "local[2]",
        spark_staging=env.get("ECIF_SPARK_STAGING") or None,
        spark_checkpoint_dir=env.get("ECIF_SPARK_CHECKPOINT_DIR") or None,
    )


def sample_dir(settings: Settings) -> Path:
    """The sample data: ``<data dir>/sample`` when it exists (a checkout, or an
    operator's own), else the copy shipped in the package ``ecif_sample``."""
    own = settings.data_dir / "sample"
    if (own / "nights").is_dir():
        return own
    from matching.packaged import packaged_dir

    return packaged_dir("ecif_sample")


def memory_dir() -> str | None:
    """A memory-backed directory for short-lived files (/dev/shm where there is a
    writable one), else None: the system's temporary directory."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
