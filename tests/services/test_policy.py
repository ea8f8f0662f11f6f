"""config/review.yaml: the shipped policy, and bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecif.services.policy import ReviewPolicy, load_policy
from matching.config import DEFAULT_CONFIG_DIR
from matching.exceptions import ConfigError
from matching.vocabulary import StewardAction


def test_shipped_policy() -> None:
    policy = load_policy(DEFAULT_CONFIG_DIR)
    assert policy.needs_approval(StewardAction.MERGE)
    assert policy.needs_approval(StewardAction.SPLIT)
    assert not policy.needs_approval(StewardAction.NOT_DUPLICATE)
    assert policy.claim_minutes == 30
    assert load_policy(Path("/nonexistent")) == ReviewPolicy()


@pytest.mark.parametrize("text,word", [
    ("approval: {smash: true}\n", "smash"),
    ("approval: {merge: maybe}\n", "true or false"),
    ("claim_minutes: 0\n", "at least 1"),
    ("claim_minutes: soon\n", "whole number"),
    ("- a list\n", "mapping"),
])
def test_bad_policy_is_named(tmp_path: Path, text: str, word: str) -> None:
    (tmp_path / "review.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=word):
        load_policy(tmp_path)
