"""Benchmark: a night of updates against a large SQLite store, this code against an
earlier commit, on copies of the same store, alternating; and whether both leave
the same store.

    .venv/bin/python bench/increment.py --data DIR [--store FILE] [--previous REF]
        [--rounds 2] [--first-night]

1. Two nights of generated records in ``--data`` (made there when missing, as
   bench/store.py makes them: 1,040,000 records, seed 7, night 2 about 50,000 new
   records and newer versions of earlier ones).
2. The store after night 1 (``ecif ingest`` + ``ecif batch``), built once into
   ``--store`` (default ``DIR/night1.db``) and reused.
3. Per round, night 2 (ingest + batch) on a fresh copy of that store, once with the
   code at ``--previous`` (a temporary git worktree, this venv) and once with this
   code, in alternating order: seconds per stage, from each run's own process.
   With ``--first-night``, night 1 instead, each time on a fresh empty store.
4. The two stores of the last round compared table by table (links, customers,
   events, pairs, tasks, golden records and their history, the API's keys and term
   frequencies; timestamps left out): the changes must not change a result.

Targets (issue 12): a 50k night against 1M in at most 45 s; the first night of 1M
(ingest + batch) in at most 180 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: One night (ingest + batch) of ``argv[2]`` into the store ``argv[1]``, run from the
#: tree whose code is measured; prints its timings as JSON on the last line.
_DRIVER = """
import json, sys, time
from dataclasses import replace
from pathlib import Path
from ecif.batch import run_batch
from ecif.ingest import ingest_files
from matching.config import DEFAULT_CONFIG_DIR
from matching.engine.config import load_engine_config
from models.db import make_engine
engine = make_engine("sqlite:///" + sys.argv[1])
t0 = time.perf_counter()
got = ingest_files(engine, [Path(sys.argv[2])])
t1 = time.perf_counter()
config = replace(load_engine_config(DEFAULT_CONFIG_DIR), model_dir=Path(sys.argv[3]))
run = run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR)
t2 = time.perf_counter()
engine.dispose()
print(json.dumps({"rows": got.read, "ingest": t1 - t0, "batch": t2 - t1,
                  "stages": run.timings}))
"""
#: What a night leaves, table by table, without timestamps or surrogate ids that
#: depend on the order of writes within a statement.
_COMPARE = {
    "link": "SELECT s.record_key, l.customer_no, l.link_type, l.rule, l.model_version, "
            "l.identity_key, l.run_id FROM link l JOIN source_record s ON s.id = l.record_id "
            "ORDER BY 1",
    "customer": "SELECT customer_no, customer_type, status, merged_into, version, records, "
                "name, gender, birth_date, id_type, id_number, mobile, email, phone, "
                "address, legal_rep, created_run, updated_run FROM customer ORDER BY 1",
    "customer_history": "SELECT customer_no, version, run_id, fields FROM customer_history "
                        "ORDER BY 1, 2",
    "merge_event": "SELECT event_type, customer_no, run_id, before, after, rule, "
                   "model_version FROM merge_event ORDER BY id",
    "event_move": "SELECT event_id, record_id, from_customer_no, to_customer_no "
                  "FROM event_move ORDER BY rowid",
    "customer_change": "SELECT change_type, customer_no, related_customer_no, event_id "
                       "FROM customer_change ORDER BY id",
    "match_pair": "SELECT run_id, left_key, right_key, customer_type, "
                  "round(match_probability, 9), decision, rule, model_version, explanation "
                  "FROM match_pair ORDER BY left_key, right_key, id",
    "review_task": "SELECT id, task_type, status, customer_type, max_score FROM review_task "
                   "ORDER BY id",
    "task_member": "SELECT task_id, record_id, customer_no FROM task_member ORDER BY 1, 2",
    "block_key": "SELECT record_id, key FROM block_key ORDER BY 1, 2",
    "term_frequency": "SELECT customer_type, tf_column, value, count FROM term_frequency "
                      "ORDER BY 1, 2, 3",
}


def _digest(db: Path, sql: str) -> tuple[int, str]:
    con = sqlite3.connect(db)
    try:
        h = hashlib.sha256()
        n = 0
        for row in con.execute(sql):
            h.update(repr(row).encode())
            n += 1
        return n, h.hexdigest()[:16]
    finally:
        con.close()


def _data(data: Path) -> list[Path]:
    if not (data / "day_002.csv").exists():
        from matching.generator import generate
        from matching.generator.params import load_params

        params = replace(load_params(), initial_load_share=0.9615, update_rate=0.01)
        generate(data, records=1_040_000, seed=7, days=2, params=params)
    return [data / "day_001.csv", data / "day_002.csv"]


def _night1(store: Path, night: Path, models: Path) -> None:
    from ecif.batch import run_batch
    from ecif.ingest import ingest_files
    from matching.config import DEFAULT_CONFIG_DIR
    from matching.engine.config import load_engine_config
    from models.db import init_db, make_engine

    engine = make_engine(f"sqlite:///{store}")
    init_db(engine)
    engine.dispose()  # an open connection would keep the initial load in WAL mode
    engine = make_engine(f"sqlite:///{store}")
    t0 = time.perf_counter()
    got = ingest_files(engine, [night])
    t1 = time.perf_counter()
    config = replace(load_engine_config(DEFAULT_CONFIG_DIR), model_dir=models)
    run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR)
    engine.dispose()
    print(f"store after night 1 built: {got.read:,} rows, ingest {t1 - t0:.0f} s + batch "
          f"{time.perf_counter() - t1:.0f} s", flush=True)


def _night2(tree: Path, base: Path, copy: Path, night: Path, models: Path) -> dict:
    for old in copy.parent.glob(copy.name + "*"):
        old.unlink()
    shutil.copyfile(base, copy)
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(copy), str(night), str(models)],
                          cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"night 2 with {tree} failed: {done.stderr[-600:]}")
    got: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def _line(label: str, t: dict) -> str:
    stages = ", ".join(f"{k} {v:.1f}" for k, v in t["stages"].items())
    return (f"  {label:<22} {t['rows']:,} rows: ingest {t['ingest']:.1f} s + batch "
            f"{t['batch']:.1f} s = {t['ingest'] + t['batch']:.1f} s ({stages})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--store", type=Path, default=None)
    ap.add_argument("--previous", default="f627063",
                    help="git ref of the code to compare with (a temporary worktree)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--first-night", action="store_true",
                    help="night 1 on an empty store instead of night 2 against night 1's")
    args = ap.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start",
          flush=True)
    nights = _data(args.data)
    models = args.data / "models"
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-increment-"))
    if args.first_night:
        from models.db import init_db, make_engine

        store, night = work / "empty.db", nights[0]
        engine = make_engine(f"sqlite:///{store}")
        init_db(engine)
        engine.dispose()
    else:
        store, night = args.store or args.data / "night1.db", nights[1]
        if not store.exists():
            _night1(store, nights[0], models)
    tree = work / "previous"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree),
                    args.previous], check=True, capture_output=True)
    try:
        sides = {"now": REPO, f"before ({args.previous})": tree}
        totals: dict[str, list[float]] = {k: [] for k in sides}
        copies = {k: work / f"{i}.db" for i, k in enumerate(sides)}
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            print(f"round {r + 1}:", flush=True)
            for label in order:
                t = _night2(sides[label], store, copies[label], night, models)
                totals[label].append(t["ingest"] + t["batch"])
                print(_line(label, t), flush=True)
        now, before = (totals[k] for k in sides)
        print("before / now per round: "
              + ", ".join(f"{b / n:.2f}" for b, n in zip(before, now, strict=True)))
        a, b = copies.values()
        differ = []
        for table, sql in _COMPARE.items():
            if _digest(a, sql) != _digest(b, sql):
                differ.append(table)
        print("the two stores after the last round: "
              + (f"DIFFER in {', '.join(differ)}" if differ else
                 f"the same in all {len(_COMPARE)} tables compared"))
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
