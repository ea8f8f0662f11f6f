"""User mistakes end in one clear line and a non-zero exit, never in
``internal error``; exports never replace a device or a symbolic link with a
regular file."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecif.cli import main
from tests.store.helpers import person, write_csv


def _run(args: list[str], url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env={"ECIF_DATABASE_URL": url, "ECIF_WORKERS": "1"})
    return result.exit_code, result.stderr


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ecif.db'}"
    assert _run(["init"], url)[0] == 0
    return url


def _one_line(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "internal error" not in err and "sqlalche.me" not in err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("args,words", [
    (["ingest", "--from-db", "not a url", "--table", "t"], ["not a usable database URL"]),
    (["ingest", "--from-db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--table", "t"],
     ["source table 't'", "cannot be read"]),
    (["export", "changes", "--since", "9999-12-31T23:59:59-14:00", "--out", "x.csv"],
     ["out of range"]),
    (["export", "changes", "--since", "yesterday", "--out", "x.csv"], ["ISO 8601"]),
    (["export", "links", "--out", ""], ["empty path"]),
    (["ingest"], ["no FILE given"]),
    (["ingest", "missing.csv"], ["no such file"]),
    (["model", "use", "person-000"], ["not in this store"]),
])
def test_user_mistakes_get_one_line(url: str, args: list[str], words: list[str],
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _one_line(*_run(args, url), *words)
    assert not (tmp_path / "x.csv").exists()


def test_read_only_database_gets_one_line(url: str, tmp_path: Path) -> None:
    rows = write_csv(tmp_path / "n1.csv", [person("CORE", "C1", "张伟")])
    read_only = f"sqlite:///file:{tmp_path / 'ecif.db'}?mode=ro&uri=true"
    _one_line(*_run(["ingest", str(rows)], read_only), "database", "readonly")


def test_serve_refuses_a_port_out_of_range(url: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "99999"])
    assert result.exit_code == 2 and "99999 is not in the range 1<=x<=65535" in result.output


def test_export_writes_a_symlinks_target_and_keeps_the_link(url: str, tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    code, err = _run(["export", "links", "--out", str(link)], url)
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("source_system,source_customer_id,customer_no")


def test_export_writes_a_pipe_in_place(url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    code, err = _run(["export", "tasks", "--out", str(fifo)], url)
    reader.join(timeout=30)
    assert code == 0, err
    assert got and got[0].startswith("task_id,task_type,status")
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a regular file
