"""The changes stage's prune of ``match_pair`` on a large store: the whole-table
prune against the batch's (older rows looked for only behind the pairs its run
wrote), on copies of the same SQLite store, alternating.

A night is simulated on a copy of a store a first night built (``bench/api.py
--build-only`` makes one at 1M): every ``--every``-th pair is written again as
run 2's (a pair scored again), then ``prune_pairs`` runs as the whole-table prune
(``run_id=None``) or as run 2's; and, as on a first night where every pair is
the run's own, the copies written as run 1's (a pair written twice) and the
prune run as run 1's. All must prune the same rows.

    .venv/bin/python bench/prune.py --store /tmp/api1m/api.db
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import machine  # noqa: E402
from ecif.services.retention import prune_pairs  # noqa: E402
from models.db import make_engine  # noqa: E402

_COLUMNS = ("customer_type, match_probability, match_weight, decision, rule, model_version, "
            "explanation")


def _once(store: Path, copy: Path, run: int | None, every: int) -> tuple[int, int, float, float]:
    """The copies are the pruning run's rows (run 2's for the whole-table prune)."""
    shutil.copyfile(store, copy)
    engine = make_engine(f"sqlite:///{copy}")
    try:
        with engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO match_pair (run_id, left_key, right_key, {_COLUMNS}) "
                f"SELECT :run, left_key, right_key, {_COLUMNS} FROM match_pair "
                "WHERE id % :every = 0"), {"every": every, "run": run or 2})
            rows = int(conn.execute(text("SELECT count(*) FROM match_pair")).scalar_one())
        with engine.begin() as conn:
            wall, cpu = time.perf_counter(), time.process_time()
            pruned = prune_pairs(conn, run)
            return rows, pruned, time.perf_counter() - wall, time.process_time() - cpu
    finally:
        engine.dispose()
        copy.unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a SQLite store (api.db)")
    ap.add_argument("--every", type=int, default=50, help="every n-th pair scored again")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory(prefix="ecif-bench-prune-") as tmp:
        copy = Path(tmp) / "store.db"
        for _ in range(args.rounds):
            for label, run in (("whole table", None), ("behind run 2's pairs", 2),
                               ("first night: behind all of run 1's pairs", 1)):
                rows, pruned, wall, cpu = _once(args.store, copy, run, args.every)
                print(f"  {label}: {rows:,} pairs, pruned {pruned:,} in {wall:.2f} s "
                      f"({cpu:.2f} CPU-s)", flush=True)


if __name__ == "__main__":
    main()
