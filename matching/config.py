"""Typed configuration loaded from ``config/``.

Loaded once into immutable objects and passed in as arguments; library code
reads no globals. The directory defaults to the repository's ``config/`` (in an installed wheel:
the copy shipped as the package ``ecif_config``) and can be moved with
``ECIF_CONFIG_DIR`` (read by the settings module, which
passes it here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from matching.exceptions import ConfigError

__all__ = ["DEFAULT_CONFIG_DIR", "SourceCodes", "CodeMaps", "load_code_maps", "load_yaml"]



def _default_config_dir() -> Path:
    """The checkout's ``config/`` when running from a checkout; else the copy the
    wheel ships as the package ``ecif_config``."""
    checkout = Path(__file__).resolve().parent.parent / "config"
    if (checkout / "codes.yaml").is_file():
        return checkout
    from matching.packaged import packaged_dir

    return packaged_dir("ecif_config")


DEFAULT_CONFIG_DIR = _default_config_dir()


def load_yaml(path: Path) -> Any:
    """Read one YAML file, turning every failure into a ConfigError naming the file."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc


@dataclass(frozen=True)
class SourceCodes:
    """One source system's code tables: source code → standard code."""

    system: str
    description: str
    gender: Mapping[str, str]
    id_type: Mapping[str, str]


@dataclass(frozen=True)
class CodeMaps:
    """Every source system's code tables, plus the standard code lists."""

    systems: Mapping[str, SourceCodes]
    genders: frozenset[str] = field(default_factory=lambda: frozenset({"M", "F", "U"}))
    id_types: frozenset[str] = frozenset()

    def gender(self, system: str, code: str | None) -> tuple[str, bool]:
        """Map a gender code. Returns (standard code, mapped?). Empty → ("U", True)."""
        return self._map(system, code, "gender", "U")

    def id_type(self, system: str, code: str | None) -> tuple[str | None, bool]:
        """Map an id_type code. Empty → (None, True); unknown → ("OTHER", False)."""
        if code is None or not str(code).strip():
            return None, True
        return self._map(system, code, "id_type", "OTHER")

    def source_code(self, system: str, kind: str, standard: str) -> str:
        """The first source code of ``system`` meaning ``standard`` (used by the generator)."""
        table = getattr(self.systems[system], kind)
        for src, std in table.items():
            if std == standard:
                return str(src)
        raise ConfigError(f"source system {system} has no {kind} code for {standard}")

    def _map(self, system: str, code: str | None, kind: str, fallback: str) -> tuple[str, bool]:
        if code is None:
            return fallback, True
        key = str(code).strip()
        if not key:
            return fallback, True
        src = self.systems.get(system)
        if src is not None:
            table: Mapping[str, str] = getattr(src, kind)
            hit = table.get(key)
            if hit is None:
                hit = table.get(key.upper()) or table.get(key.lower())
            if hit is not None:
                return hit, True
        return fallback, False


def load_code_maps(config_dir: Path = DEFAULT_CONFIG_DIR) -> CodeMaps:
    """Load ``codes.yaml``; a malformed table raises ConfigError naming the entry."""
    data = load_yaml(config_dir / "codes.yaml")
    if not isinstance(data, dict) or "systems" not in data:
        raise ConfigError(f"{config_dir / 'codes.yaml'}: expected a mapping with 'systems'")
    std = data.get("standard") or {}
    genders = frozenset(str(g) for g in std.get("gender", ["M", "F", "U"]))
    id_types = frozenset(str(t) for t in std.get("id_type", []))
    systems: dict[str, SourceCodes] = {}
    for name, spec in (data["systems"] or {}).items():
        if not isinstance(spec, dict):
            raise ConfigError(f"codes.yaml: system {name!r} must be a mapping")
        tables: dict[str, dict[str, str]] = {}
        for kind, allowed in (("gender", genders), ("id_type", id_types)):
            table = {str(k): str(v) for k, v in (spec.get(kind) or {}).items()}
            bad = [v for v in table.values() if allowed and v not in allowed]
            if bad:
                raise ConfigError(
                    f"codes.yaml: system {name!r} maps {kind} to {bad[0]!r}, "
                    f"expected one of {sorted(allowed)}"
                )
            tables[kind] = table
        systems[str(name)] = SourceCodes(
            str(name), str(spec.get("description", "")), tables["gender"], tables["id_type"]
        )
    return CodeMaps(systems=systems, genders=genders, id_types=id_types)
