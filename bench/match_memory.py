"""Benchmark: where the memory of a full DuckDB match goes, stage by stage.

    .venv/bin/python bench/match_memory.py [--sizes 250000 500000] [--data-root DIR]
        [--duckdb-memory 12GB] [--seed 1] [--compare-with CHECKOUT]

For each size: the records are generated, standardised and both models trained
as bench/spark.py does (reused from DIR/<size> when there), then the full match
(every record in scope, ``run_matching`` as ``bench/spark.py --engines duckdb``
runs it) runs in a fresh child process that has read the standardised records
into DuckDB and the models, and nothing else. A sampler thread reads, every
50 ms, the child's resident memory, DuckDB's own accounting (``duckdb_memory()``:
what its buffer manager holds under ``memory_limit``, and what it spilled) and
Arrow's default pool; the stage the match is in comes from run_matching's
``match stage`` log marks. Printed per stage: resident memory at its start and
its peak, and at that peak how much DuckDB and Arrow held (the rest is Python
objects, numpy and DuckDB's result buffers outside its accounting).

``--compare-with CHECKOUT`` runs the same child first with the code of another
checkout of this repository (``git worktree add --detach DIR COMMIT``), so a
change is measured against its base in the same run; both children print a
digest of their result (clusters, link types, tasks, strong-rule pairs, every
scored pair with all its columns), which must be equal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from _common import machine

HERE = Path(__file__).resolve().parent


class StageSampler(logging.Handler):
    """Resident memory, DuckDB's and Arrow's accounting every 50 ms, by stage."""

    def __init__(self, con: Any) -> None:
        super().__init__(logging.DEBUG)
        self.stage = "start"
        self.stages: dict[str, dict[str, float]] = {}
        self._cursor = con.cursor()  # a second connection: the sampler thread's own
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def emit(self, record: logging.LogRecord) -> None:
        name = getattr(record, "match_stage", None)
        if name is not None:
            self._traced()
            self.stage = name

    def _traced(self) -> None:
        """With tracemalloc on: the Python heap's peak in the stage that ends."""
        if tracemalloc.is_tracing():
            row = self.stages.get(self.stage)
            if row is not None:
                row["python_peak"] = tracemalloc.get_traced_memory()[1]
                row["python_end"] = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()

    def _sample(self) -> None:
        import pyarrow as pa

        rss, anon = _resident()
        used, spilled = self._cursor.execute(
            "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) "
            "FROM duckdb_memory()").fetchone()
        row = self.stages.setdefault(self.stage, {"start": rss, "peak": 0.0, "anon": 0.0,
                                                  "duckdb": 0.0,
                                                  "arrow": 0.0, "duckdb_max": 0.0,
                                                  "spilled_max": 0.0, "seconds": 0.0,
                                                  "t0": time.perf_counter()})
        if rss > row["peak"]:
            row.update(peak=rss, duckdb=used or 0, arrow=pa.total_allocated_bytes())
        row["anon"] = max(row["anon"], anon)
        row["duckdb_max"] = max(row["duckdb_max"], used or 0)
        row["spilled_max"] = max(row["spilled_max"], spilled or 0)
        row["seconds"] = time.perf_counter() - row["t0"]

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.05)

    def __enter__(self) -> StageSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self._traced()


def _resident() -> tuple[int, int]:
    """This process's resident memory and its anonymous part (not file pages)."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "RssAnon:")):
                name, kib = line.split()[:2]
                fields[name] = int(kib) * 1024
    return fields["VmRSS:"], fields["RssAnon:"]


def _digest(result: Any) -> str:
    """One hash of everything the match returns, independent of row order."""
    import pyarrow as pa

    h = hashlib.sha256()
    rec = result.records.sort_values("unique_id").astype(str)
    h.update(rec[sorted(rec.columns)].to_csv(index=False).encode())
    tasks = result.tasks.astype(str)
    h.update(tasks.sort_values(sorted(tasks.columns)).to_csv(index=False).encode())
    rp = result.rule_pairs.astype(str)
    h.update(rp.sort_values(sorted(rp.columns)).to_csv(index=False).encode())
    pairs: pa.Table = result.pairs
    pairs = pairs.sort_by([("customer_type", "ascending"), ("unique_id_l", "ascending"),
                           ("unique_id_r", "ascending")])
    for name in sorted(pairs.column_names):
        h.update(name.encode())
        h.update(repr(pairs.column(name).to_pylist()).encode())
    h.update(json.dumps(result.counts, sort_keys=True).encode())
    return h.hexdigest()[:16]


def measure(data: Path, duckdb_memory: str, trace: bool) -> None:
    """Child: read the standardised records and models, run the match, print JSON."""
    import matching
    from matching.engine.backend import DuckDBBackend
    from matching.engine.config import load_engine_config
    from matching.engine.model import load_model, model_path
    from matching.engine.run import run_matching
    from matching.engine.workflow import STD_TABLE

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="ecif-bench-matchmem-") as tmp:
        db = DuckDBBackend(temp_directory=Path(tmp),
                           memory_limit=None if duckdb_memory == "auto" else duckdb_memory)
        parquet = data / "std_records.parquet"
        db.con.execute(f"CREATE TABLE {STD_TABLE} AS SELECT * FROM read_parquet('{parquet}')")
        n = db.count(STD_TABLE)
        models = {c: load_model(model_path(data / "models", c)) for c in ("P", "G")}
        limit = db.con.execute("SELECT current_setting('memory_limit')").fetchone()
        config = load_engine_config()
        sampler = StageSampler(db.con)
        run_log = logging.getLogger("matching.engine.run")
        run_log.setLevel(logging.DEBUG)
        run_log.addHandler(sampler)
        sampler.stage = "match"  # code without stage marks
        if trace:
            tracemalloc.start()
        t0, cpu0 = time.perf_counter(), time.process_time()
        with sampler:
            result = run_matching(db, STD_TABLE, config, models)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        run_log.removeHandler(sampler)
        stages = {k: {m: v[m] for m in ("start", "peak", "anon", "duckdb", "arrow",
                                        "duckdb_max", "spilled_max", "seconds",
                                        "python_peak", "python_end") if m in v}
                  for k, v in sampler.stages.items()}
        out = {"code": str(Path(matching.__file__).parent.parent), "records": n,
               "memory_limit": limit[0] if limit else "?",
               "pairs": result.pairs.num_rows, "pair_columns": result.pairs.num_columns,
               "pairs_bytes": result.pairs.nbytes, "wall": wall, "cpu": cpu,
               "peak": max(v["peak"] for v in stages.values()),
               "anon": max(v["anon"] for v in stages.values()), "stages": stages,
               "digest": _digest(result)}
        print(json.dumps(out), flush=True)


def _gib(b: float) -> str:
    return f"{b / 2**30:.2f}"


def _report(size: int, label: str, out: dict[str, Any]) -> None:
    n = out["records"]
    print(f"[{size:,}] {label} ({out['code']}): {n:,} records, {out['pairs']:,} scored pairs "
          f"(memory_limit {out['memory_limit']}; {out['pair_columns']} columns, "
          f"{_gib(out['pairs_bytes'])} GiB in Arrow); "
          f"{out['wall']:.0f}s wall, {out['cpu']:.0f} CPU s; peak RSS {_gib(out['peak'])} GiB "
          f"({out['peak'] / n:,.0f} bytes per record), of it anonymous {_gib(out['anon'])} GiB; "
          f"digest {out['digest']}", flush=True)
    print(f"  {'stage':<24}{'s':>6}{'RSS start':>11}{'RSS peak':>10}{'anon':>6}{'DuckDB':>8}"
          f"{'Arrow':>7}{'rest':>7}{'DuckDB max':>12}{'spilled':>9}{'Python heap':>13}   (GiB)")
    for name, s in out["stages"].items():
        rest = s["peak"] - s["duckdb"] - s["arrow"]
        py = (f"{_gib(s['python_end']):>6}/{_gib(s['python_peak'])}" if "python_peak" in s
              else "")
        print(f"  {name:<24}{s['seconds']:>6.1f}{_gib(s['start']):>11}{_gib(s['peak']):>10}"
              f"{_gib(s['anon']):>6}{_gib(s['duckdb']):>8}{_gib(s['arrow']):>7}{_gib(rest):>7}"
              f"{_gib(s['duckdb_max']):>12}{_gib(s['spilled_max']):>9}{py:>13}", flush=True)


def _child(code: Path, data: Path, duckdb_memory: str, trace: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run([sys.executable, str(HERE / "match_memory.py"), "--measure",
                           str(data), "--duckdb-memory", duckdb_memory,
                           *(["--tracemalloc"] if trace else [])],
                          cwd=code, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measuring with {code} failed ({proc.returncode}):\n"
                         f"{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 500_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-root", type=Path, default=Path("data/out/bench-spark"))
    parser.add_argument("--duckdb-memory", default="12GB",
                        help="DuckDB's memory_limit; 'auto': the engine's default (a share "
                             "of the memory available; code that has it)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="generate, standardise and train (what is not there yet), then stop")
    parser.add_argument("--compare-with", type=Path,
                        help="a checkout of other code to measure first, in the same run")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace the Python heap per stage (end / peak; slows "
                             "Python code several-fold)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.duckdb_memory, args.tracemalloc)
        return
    from spark import prepare

    from matching.engine.backend import DuckDBBackend

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; "
          f"DuckDB memory_limit {args.duckdb_memory}", flush=True)
    for size in args.sizes:
        data = (args.data_root / str(size)).resolve()
        with tempfile.TemporaryDirectory(prefix="ecif-bench-matchmem-") as tmp:
            db = DuckDBBackend(temp_directory=Path(tmp), memory_limit=None
                               if args.duckdb_memory == "auto" else args.duckdb_memory)
            prepare(db, data, size, args.seed, Path(tmp))
            db.con.close()
        if args.prepare_only:
            continue
        runs = []
        if args.compare_with:
            runs.append(("before", args.compare_with.resolve()))
        runs.append(("this code", HERE.parent))
        results = {}
        for label, code in runs:
            load = os.getloadavg()[0]
            results[label] = out = _child(code, data, args.duckdb_memory, args.tracemalloc)
            _report(size, f"{label}, load {load:.1f}-{os.getloadavg()[0]:.1f}", out)
        if len(results) == 2:
            b, a = results["before"], results["this code"]
            print(f"[{size:,}] this code / before: peak RSS {a['peak'] / b['peak']:.2f}x "
                  f"({_gib(a['peak'])} / {_gib(b['peak'])} GiB), CPU {a['cpu'] / b['cpu']:.2f}x, "
                  f"wall {a['wall'] / b['wall']:.2f}x; same result: "
                  f"{a['digest'] == b['digest']}", flush=True)


if __name__ == "__main__":
    main()
