"""`ecif init | ingest | batch | export` as operators run them (contract §3)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecif.cli import main

NIGHTS = Path(__file__).parents[2] / "data" / "sample" / "nights"


def _run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"ECIF_DATABASE_URL": url,
                                                      "ECIF_WORKERS": "1"})
    return result.exit_code, result.stdout, result.stderr


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_nightly_cycle_and_exports(store_url: str, tmp_path: Path,
                                   sample_models: Path) -> None:
    assert _run(store_url, "init")[0] == 0
    assert _run(store_url, "init")[0] == 0  # upgrade of a current schema: nothing to do
    code, out, _ = _run(store_url, "ingest", str(NIGHTS / "day_001.csv"))
    assert code == 0 and "1060 new" in out and "1 rejected" in out
    pending = tmp_path / "pending.csv"
    assert _run(store_url, "export", "links", "--out", str(pending))[0] == 0
    assert {r["link_type"] for r in _csv(pending)} == {"pending"}
    code, out, err = _run(store_url, "batch", "--model-dir", str(sample_models))
    assert code == 0, err
    assert "batch run 1" in out
    code, out, _ = _run(store_url, "ingest", str(NIGHTS / "day_002.csv"))
    assert code == 0
    since = "2000-01-01T00:00:00+08:00"
    assert _run(store_url, "batch", "--model-dir", str(sample_models))[0] == 0

    links, tasks, changes = tmp_path / "links.csv", tmp_path / "tasks.csv", tmp_path / "ch.csv"
    assert _run(store_url, "export", "links", "--out", str(links))[0] == 0
    assert _run(store_url, "export", "tasks", "--out", str(tasks))[0] == 0
    assert _run(store_url, "export", "changes", "--since", since, "--out", str(changes))[0] == 0
    with links.open(encoding="utf-8") as fh:
        assert fh.readline().strip() == "source_system,source_customer_id,customer_no,link_type"
    with tasks.open(encoding="utf-8") as fh:
        assert fh.readline().strip() == ("task_id,task_type,status,source_system,"
                                         "source_customer_id,customer_no")
    rows = _csv(links)
    keys = [(r["source_system"], r["source_customer_id"]) for r in rows]
    assert len(keys) == len(set(keys)) == 1060 + 276  # every ingested record exactly once
    assert all(r["customer_no"].startswith("C") for r in rows)
    assert {r["link_type"] for r in rows} <= {"new", "auto_rule", "auto_model", "manual"}
    open_tasks = _csv(tasks)
    assert open_tasks and {r["status"] for r in open_tasks} == {"open"}
    feed = _csv(changes)
    assert feed and {r["change_type"] for r in feed} <= {"merged_into", "split_from"}
    customers = {r["customer_no"] for r in rows}
    for change in feed:  # a merged-away number is gone; its survivor holds records
        if change["change_type"] == "merged_into":
            assert change["customer_no"] not in customers
            assert change["related_customer_no"] in customers
    later = tmp_path / "later.csv"
    assert _run(store_url, "export", "changes", "--since", "2999-01-01", "--out",
                str(later))[0] == 0
    assert _csv(later) == []


@pytest.mark.parametrize("args, message", [
    (["export", "changes", "--since", "yesterday", "--out", "x.csv"], "--since 'yesterday'"),
    (["ingest"], "no FILE given"),
    (["ingest", "nope.csv"], "no such file"),
])
def test_bad_arguments_are_one_line_errors(tmp_path: Path, args: list[str],
                                           message: str) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    _run(url, "init")
    code, _, err = _run(url, *args)
    assert code == 1 and message in err and err.count("\n") == 1


def test_commands_on_an_uninitialised_database_say_run_init(tmp_path: Path) -> None:
    code, _, err = _run(f"sqlite:///{tmp_path / 'new.db'}", "batch")
    assert code == 1 and "ecif init" in err
