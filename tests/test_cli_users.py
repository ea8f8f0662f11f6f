"""``ecif user create|disable|enable|reset-password|list`` (contract §5) on a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ecif.cli import main


def test_user_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECIF_DATABASE_URL", f"sqlite:///{tmp_path / 'e.db'}")
    run = CliRunner().invoke
    assert run(main, ["init"]).exit_code == 0
    made = run(main, ["user", "create", "steward1", "--role", "steward", "--password-stdin"],
               input="demo-steward1\n")
    assert made.exit_code == 0, made.output
    assert "steward1" in made.output
    again = run(main, ["user", "create", "steward1", "--role", "viewer", "--password-stdin"],
                input="demo-steward1\n")
    assert again.exit_code == 1 and "exists" in again.output
    short = run(main, ["user", "create", "v1", "--role", "viewer", "--password-stdin"],
                input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    prompted = run(main, ["user", "create", "approver1", "--role", "approver"],
                   input="demo-approver1\ndemo-approver1\n")
    assert prompted.exit_code == 0, prompted.output
    assert run(main, ["user", "disable", "steward1"]).exit_code == 0
    listed = run(main, ["user", "list"]).output.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["approver1", "approver", "active"], ["steward1", "steward", "disabled"]]
    assert run(main, ["user", "enable", "steward1"]).exit_code == 0
    assert run(main, ["user", "reset-password", "steward1", "--password-stdin"],
               input="another-pass\n").exit_code == 0
    assert run(main, ["user", "disable", "ghost"]).exit_code == 1

    from ecif.services.base import unit_of_work
    from ecif.services.users import authenticate
    from models.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    with unit_of_work(engine) as conn:
        assert authenticate(conn, "steward1", "another-pass") is not None
        assert authenticate(conn, "approver1", "demo-approver1") is not None
    engine.dispose()
