"""Load test of the integrators' API: match-check and registration under a
production WSGI server (waitress, ``ecif serve``), on SQLite and PostgreSQL.

A generated night (``--records``, persons and organisations, some with IDs,
some without) is ingested and batched into a fresh store, except
``--held-out`` rows kept back as requests: they are the applicants at policy
entry (some are new customers, most have records in the store under other
systems). ``--clients`` threads then send, for ``--seconds``, 80 % match-checks
and 20 % registrations (each held-out row registered at most once) over
keep-alive connections. Printed: requests/s, p50/p99 per call, errors, the
decisions, the server's peak RSS.

Peer, in the same run on the same candidates: Splink's own real-time scoring,
``splink.internals.realtime.compare_records`` with its SQL cache, one call per
request (the record against all its candidates at once), against the native
scorer on the same pairs; the probabilities must agree to 1e-6.

    .venv/bin/python bench/api.py --records 100000 --seconds 60
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import machine  # noqa: E402
from ecif.batch import run_batch  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from ecif.services.apikeys import create_key  # noqa: E402
from ecif.services.base import Actor, unit_of_work  # noqa: E402
from ecif.services.matchcheck import Matcher  # noqa: E402
from ecif.services.model_registry import active_models  # noqa: E402
from matching.config import DEFAULT_CONFIG_DIR, load_code_maps  # noqa: E402
from matching.engine.config import load_engine_config  # noqa: E402
from matching.generator import generate  # noqa: E402
from matching.standardise.record import standardise_record  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"ecif_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", name


def _drop_pg(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _probe(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items()
            if k not in ("source_customer_id", "updated_at") and v}


class _Load:
    def __init__(self, port: int, key: str, rows: list[dict[str, str]], seconds: float,
                 clients: int, register_share: float) -> None:
        self.port, self.key, self.rows = port, key, rows
        self.seconds, self.clients, self.share = seconds, clients, register_share
        self.lock = threading.Lock()
        self.to_register = list(range(len(rows)))
        random.Random(7).shuffle(self.to_register)
        self.results: list[tuple[str, float, int, str]] = []  # call, seconds, status, decision

    def _one(self, seed: int, deadline: float, record: bool) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"X-API-Key": self.key, "Content-Type": "application/json"}
        out = []
        while time.perf_counter() < deadline:
            idx = None
            if rng.random() < self.share:
                with self.lock:
                    idx = self.to_register.pop() if self.to_register else None
            if idx is not None:
                call, path, body = "register", "/api/v1/customers", self.rows[idx]
            else:
                row = self.rows[rng.randrange(len(self.rows))]
                call, path, body = "match", "/api/v1/match-check", _probe(row)
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                status, payload = 599, b"{}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            took = time.perf_counter() - t0
            decision = ""
            if status in (200, 201):
                decision = json.loads(payload).get("decision", "")
            if record:
                out.append((call, took, status, decision))
        conn.close()
        with self.lock:
            self.results.extend(out)

    def run(self, warmup: float = 5.0) -> float:
        for phase, length in (("warm", warmup), ("measure", self.seconds)):
            deadline = time.perf_counter() + length
            threads = [threading.Thread(target=self._one, args=(i + (99 if phase == "warm"
                                                                     else 0), deadline,
                                                                 phase == "measure"))
                       for i in range(self.clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
        return elapsed


def _serve(url: str, port: int, threads: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ECIF_DATABASE_URL=url)
    proc = subprocess.Popen([sys.executable, "-m", "ecif.cli", "serve", "--port", str(port),
                             "--threads", str(threads)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def _peer(engine: Any, rows: list[dict[str, str]], n: int) -> str:
    """Splink's compare_records against the native scorer on the same candidates."""
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    codes = load_code_maps()
    matcher = Matcher(load_engine_config(), codes)
    db_api = DuckDBAPI()
    with engine.connect() as conn:
        models = active_models(conn)
        native_s: list[float] = []
        splink_s: list[float] = []
        worst = 0.0
        pairs = 0
        for row in rows[:n]:
            record = standardise_record(_probe(row) | {"source_customer_id": "x"}, codes).record
            out = matcher.check(conn, record)
            if not out.scored:
                continue
            loaded = matcher._models[record["customer_type"] or "P"]
            cands = [c.features for c in out.scored]
            tf = matcher._tf(conn, record["customer_type"] or "P", [out.features, *cands],
                             loaded.native.tf_columns)
            t0 = time.perf_counter()
            scores = loaded.native.score_many(out.features, cands, tf)
            native_s.append(time.perf_counter() - t0)

            cols = loaded.native.tf_columns
            left = pd.DataFrame([{**f, **{f"tf_{c}": tf(c, f.get(c)) for c in cols}}
                                 for f in [out.features]])
            right = pd.DataFrame([{**f, **{f"tf_{c}": tf(c, f.get(c)) for c in cols}}
                                  for f in cands])
            for frame in (left, right):
                for col in frame.columns:
                    if not col.startswith("tf_"):
                        frame[col] = frame[col].astype("string")
                    else:
                        frame[col] = frame[col].astype("float64")
            model = models[record["customer_type"] or "P"]
            t0 = time.perf_counter()
            got = compare_records(left, right, model.splink, db_api,
                                  sql_cache_key=f"peer_{record['customer_type']}")
            probs = got.as_pandas_dataframe()["match_probability"].to_numpy()
            splink_s.append(time.perf_counter() - t0)
            pairs += len(cands)
            mine = np.array([s.match_probability for s in scores])
            order_r = got.as_pandas_dataframe()["unique_id_r"].tolist()
            by_id = {c["unique_id"]: p for c, p in zip(cands, mine, strict=True)}
            worst = max(worst, max(abs(by_id[u] - p) for u, p in zip(order_r, probs,
                                                                      strict=True)))
    ns, ss = np.median(native_s) * 1000, np.median(splink_s) * 1000
    return (f"peer on {len(native_s)} requests, {pairs} candidate pairs: scoring per request "
            f"median native {ns:.3f} ms, Splink compare_records (SQL cached) {ss:.1f} ms "
            f"= {ss / ns:.0f}x slower; largest probability difference {worst:.1e}")


def _report(kind: str, label: str, load: _Load, elapsed: float, cpu: float) -> None:
    """One phase: requests/s, per call p50/p99 and decisions, errors (400: a body the
    admission rejects, as it should), the server's CPU ms per request (warm-up
    included in the CPU, so slightly high)."""
    res = pd.DataFrame(load.results, columns=["call", "s", "status", "decision"])
    rejected = res["status"].eq(400)
    errors = ~res["status"].isin([200, 201, 400])
    n = len(res)
    print(f"  {kind}, {label}: {n:,} requests in {elapsed:.0f}s = {n / elapsed:,.0f}/s; "
          f"errors {int(errors.sum())} {res.loc[errors, 'status'].value_counts().to_dict()}, "
          f"rejected bodies {int(rejected.sum())}; server CPU {cpu / max(n, 1) * 1000:.1f} ms "
          f"per request")
    for call, part in res.groupby("call"):
        ms = part["s"].to_numpy() * 1000
        decisions = part.loc[part["decision"] != "", "decision"].value_counts().to_dict()
        print(f"    {call}: {len(part):,} calls, p50 {np.percentile(ms, 50):.1f} ms, "
              f"p99 {np.percentile(ms, 99):.1f} ms; {decisions}")


def _bench(kind: str, store_rows: Path, held: list[dict[str, str]], args: argparse.Namespace,
           work: Path) -> None:
    pg_name = None
    if kind == "postgresql":
        url, pg_name = _pg_database()
    else:
        url = f"sqlite:///{work / 'api.db'}"
    try:
        engine = make_engine(url)
        init_db(engine)
        t0 = time.perf_counter()
        got = ingest_files(engine, [store_rows], workers=1)
        t1 = time.perf_counter()
        config = load_engine_config(DEFAULT_CONFIG_DIR)
        run_batch(engine, config, config_dir=DEFAULT_CONFIG_DIR, workers=1)
        t2 = time.perf_counter()
        print(f"{kind}: store of {got.read:,} rows: ingest {t1 - t0:.0f}s, batch "
              f"{t2 - t1:.0f}s")
        with unit_of_work(engine) as conn:
            key = create_key(conn, "bench", rate_limit=10_000_000,
                             actor=Actor("bench", system=True)).key
        print("  " + _peer(engine, held, args.peer))
        port = args.port + (1 if kind == "postgresql" else 0)
        server = _serve(url, port, args.threads)
        proc = psutil.Process(server.pid)
        peak = [0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], proc.memory_info().rss)
                except psutil.Error:
                    pass
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        phases = [("match-check alone, 1 client", 1, 0.0, args.seconds / 2),
                  (f"match-check alone, {args.clients} clients", args.clients, 0.0,
                   args.seconds / 2),
                  (f"mix with {args.register_share:.0%} registrations, {args.clients} clients",
                   args.clients, args.register_share, args.seconds)]
        for label, clients, share, seconds in phases:
            cpu0 = sum(proc.cpu_times()[:2])
            load = _Load(port, key, held, seconds, clients, share)
            elapsed = load.run(warmup=3.0)
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            _report(kind, label, load, elapsed, cpu)
        stop.set()
        server.terminate()
        server.wait(10)
        print(f"  {kind}: server peak RSS {peak[0] / 2**20:.0f} MiB; load average "
              f"{os.getloadavg()[0]:.1f}")
        engine.dispose()
    finally:
        if pg_name:
            _drop_pg(pg_name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--held-out", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--register-share", type=float, default=0.2)
    ap.add_argument("--peer", type=int, default=200, help="requests scored by the peer")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--port", type=int, default=8850)
    ap.add_argument("--data", type=Path, default=None, help="keep and reuse generated data here")
    args = ap.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-api-"))
    data = args.data or work / "data"
    if not (data / "day_001.csv").exists():
        generate(data, records=args.records, seed=args.seed)
    frame = pd.read_csv(data / "day_001.csv", dtype=str, keep_default_na=False)
    held_idx = frame.sample(n=args.held_out, random_state=args.seed).index
    store = work / "store.csv"
    frame.drop(index=held_idx).to_csv(store, index=False)
    held: list[dict[str, str]] = [{str(k): str(v) for k, v in r.items()}
                                  for r in frame.loc[held_idx].to_dict("records")]
    print(f"requests from {len(held):,} held-out rows "
          f"({(frame.loc[held_idx, 'customer_type'] == 'G').mean():.0%} organisations, "
          f"{(frame.loc[held_idx, 'id_number'] != '').mean():.0%} with an ID)")
    for kind in args.databases.split(","):
        _bench(kind, store, held, args, work)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
