"""Where the wheel put a data folder it ships as a package without code
(``ecif_config``: the default config; ``ecif_sample``: the sample data)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from matching.exceptions import ConfigError

__all__ = ["packaged_dir"]


def packaged_dir(package: str) -> Path:
    spec = find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ConfigError(f"the installed ECIF lacks its {package!r} folder; reinstall it, or "
                          "set ECIF_CONFIG_DIR / ECIF_DATA_DIR")
    return Path(locations[0])
