from __future__ import annotations

from pathlib import Path

import pytest

from matching.config import DEFAULT_CONFIG_DIR
from matching.exceptions import ConfigError
from matching.generator.params import GeneratorParams, error_kinds, load_params, trap_kinds

REPO = DEFAULT_CONFIG_DIR.parent


def test_config_file_holds_the_defaults() -> None:
    assert load_params(DEFAULT_CONFIG_DIR / "generator.yaml") == GeneratorParams().with_overrides()


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_params(tmp_path / "none.yaml") == GeneratorParams()


def test_yaml_overrides_some_fields(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("name_homophone: 0.5\nsystem_overrides: {CORE: {id_typo: 0.2}}\n",
                    encoding="utf-8")
    params = load_params(path)
    assert params.name_homophone == 0.5
    assert params.rate("id_typo", "CORE") == 0.2
    assert params.rate("id_typo", "UW") == GeneratorParams().id_typo


@pytest.mark.parametrize("text, word", [
    ("nonsense: 1\n", "nonsense"),
    ("name_homophone: 1.5\n", "name_homophone"),
    ("person_systems: {API: 1}\n", "API"),
    ("system_overrides: {CORE: {bogus: 0.1}}\n", "bogus"),
    ("records_per_entity: [-1, 2]\n", "records_per_entity"),
])
def test_bad_values_name_the_field(tmp_path: Path, text: str, word: str) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=word):
        load_params(path)


def test_docs_list_every_kind_with_its_default() -> None:
    doc = (REPO / "docs" / "generator.md").read_text(encoding="utf-8")
    defaults = GeneratorParams()
    for kind in error_kinds() + trap_kinds():
        rows = [line for line in doc.splitlines() if line.startswith(f"| `{kind}` |")]
        assert rows, f"docs/generator.md has no row for {kind}"
        assert f"| {getattr(defaults, kind):g} |" in rows[0], rows[0]
