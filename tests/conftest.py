"""Shared fixtures: the real code maps from config/."""

from __future__ import annotations

import pytest

from matching.config import CodeMaps, load_code_maps


@pytest.fixture(scope="session")
def codes() -> CodeMaps:
    return load_code_maps()
