"""Load test of the integrators' API: match-check and registration under a
production WSGI server (``ecif serve --server gunicorn``, worker processes
forked from one loaded app; or waitress), on SQLite and PostgreSQL.

A generated night (``--records``, persons and organisations, some with IDs,
some without) is ingested and batched into a store, except ``--held-out`` rows
kept back as requests: the applicants at policy entry (most have records in
the store under other systems, some are new). Rows that admission rejects (no
name, ...) are left out of the requests, so any answer but 200/201 is an error.
The store is built once under ``--store DIR`` (SQLite ``DIR/api.db``; on
PostgreSQL the database ``--pg-database``) and reused by later runs.

The load generator is ``wrk`` (C, one connection per thread, keep-alive) with
``bench/api_load.lua``: it costs the machine a fraction of what the server
does, so the server's figures are not the client's. Phases per database:
match-check alone from 1 connection (latency without queueing), then the mix
(``--register-share`` registrations, each applicant registered at most once):
first its capacity (``--connections``, each sending as soon as it has its
answer), then sustained for ``--seconds`` at a fixed ``--rate`` (open loop:
requests are due on a schedule and a latency counts from when the request was
due, so a server falling behind shows). Printed per phase: requests/s, p50/p99
per call, errors, decisions, the server's CPU per request (all its processes;
on PostgreSQL also its backends': the database's own processes serving the
bench database, on the same cores) and its memory (RSS of each process, and
PSS: the preloaded pages the workers share counted once), the load average at
the start and end.

Peer, in the same run on the same candidates: Splink's own real-time scoring,
``splink.internals.realtime.compare_records`` with its SQL cache, one call per
request (the record against all its candidates at once), against the native
scorer on the same pairs; the probabilities must agree to 1e-6.

    .venv/bin/python bench/api.py --records 1000000 --store /tmp/api1m --build-only
    .venv/bin/python bench/api.py --records 1000000 --store /tmp/api1m --seconds 300
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import machine  # noqa: E402
from ecif.batch import run_batch  # noqa: E402
from ecif.ingest import ingest_files  # noqa: E402
from ecif.services.api_input import parse_record  # noqa: E402
from ecif.services.apikeys import create_key  # noqa: E402
from ecif.services.base import Actor, unit_of_work  # noqa: E402
from ecif.services.matchcheck import Matcher  # noqa: E402
from ecif.services.model_registry import active_models  # noqa: E402
from matching.config import DEFAULT_CONFIG_DIR, load_code_maps  # noqa: E402
from matching.engine.config import load_engine_config  # noqa: E402
from matching.exceptions import BadInput  # noqa: E402
from matching.generator import generate  # noqa: E402
from matching.standardise.record import standardise_record  # noqa: E402
from models.db import init_db, make_engine  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LUA = Path(__file__).with_name("api_load.lua")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _pg_url(name: str, socket_dir: str | None = None) -> str:
    """The URL of database ``name`` over TCP, or over the Unix socket in ``socket_dir``
    (PostgreSQL on this machine: no TCP/IP stack on either side of a round trip)."""
    if socket_dir:
        return f"postgresql+psycopg://postgres@/{name}?host={socket_dir}"
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}"


def db_name(url: str) -> str:
    """The database (SQLite: the file) a URL names."""
    return make_url(url).database or ""


def _pg_exists(name: str) -> bool:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name}).first() is not None
        if not found:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return found


def pg_backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the database of ``url`` (the
    server's processes on this machine; empty for SQLite), and under -1 the CPU of
    the server's ended backends (the postmaster's reaped children: those of other
    databases and ended autovacuum workers too, a small overcount)."""
    if not url.startswith("postgresql"):
        return {}
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        pids = [int(p) for (p,) in conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :n"),
            {"n": db_name(url)})]
    admin.dispose()
    out = {}
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            t = proc.cpu_times()
            out[pid] = t.user + t.system
            parent = proc.parent()
        except psutil.Error:
            continue
        if parent is not None and -1 not in out:
            # backends that ended (a pool's overflow connections, closed when given
            # back) count in the postmaster's reaped children's CPU, under key -1
            c = parent.cpu_times()
            out[-1] = c.children_user + c.children_system
    return out


def _admin(sql: str) -> list[Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            got = conn.execute(text(sql))
            return list(got) if got.returns_rows else []
    finally:
        engine.dispose()


def scratch_copy(kind: str, args: argparse.Namespace, work: Path, suffix: str
                 ) -> tuple[str, Callable[[], object]]:
    """A copy of the bench store, so that every run starts from the same store (a run
    registers applicants); (its URL, how to drop it). SQLite: a copy of the file in
    ``work``; PostgreSQL: ``CREATE DATABASE <name>_<suffix> TEMPLATE <name>``, copying the
    files (``STRATEGY FILE_COPY``, PostgreSQL 15+) and then a ``CHECKPOINT``: PostgreSQL 15's
    default copy writes the whole database (gigabytes at 1M records) through the WAL,
    whose checkpoints then wrote pages for minutes into the measured run (its log:
    a 249 s checkpoint from the copy spanning a 300 s paced run, 2026-12-07 19:35)."""
    if kind == "sqlite":
        target = work / f"scratch-{suffix}.db"
        shutil.copyfile(args.store / "api.db", target)
        return f"sqlite:///{target}", lambda: target.unlink(missing_ok=True)
    name = f"{args.pg_database}_{suffix}"
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    version = int(_admin("SHOW server_version_num")[0][0])
    strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{args.pg_database}"{strategy}')
    _admin("CHECKPOINT")
    return (_pg_url(name, args.pg_socket),
            lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _probe(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items()
            if k not in ("source_customer_id", "updated_at") and v}


def _data(args: argparse.Namespace) -> tuple[Path, list[dict[str, str]]]:
    """The store's rows (a CSV) and the held-out applicants (admitted ones only)."""
    store, held_csv = args.store / "store.csv", args.store / "held.csv"
    if not held_csv.exists():
        data = args.store / "data"
        if not (data / "day_001.csv").exists():
            generate(data, records=args.records, seed=args.seed)
        frame = pd.read_csv(data / "day_001.csv", dtype=str, keep_default_na=False)
        held_idx = frame.sample(n=args.held_out, random_state=args.seed).index
        frame.drop(index=held_idx).to_csv(store, index=False)
        frame.loc[held_idx].to_csv(held_csv, index=False)
    held = pd.read_csv(held_csv, dtype=str, keep_default_na=False)
    codes = load_code_maps()
    rows = []
    for r in held.to_dict("records"):
        row = {str(k): str(v) for k, v in r.items()}
        try:
            parse_record({k: v for k, v in row.items() if v}, codes, register=True)
        except BadInput:
            continue
        rows.append(row)
    return store, rows


def _build(url: str, store: Path, key_file: Path) -> str:
    """Ingest and batch the store (once); return the bench's API key."""
    if key_file.exists():
        return key_file.read_text().strip()
    engine = make_engine(url)
    init_db(engine)
    t0 = time.perf_counter()
    got = ingest_files(engine, [store], workers=1)
    t1 = time.perf_counter()
    run_batch(engine, load_engine_config(DEFAULT_CONFIG_DIR), config_dir=DEFAULT_CONFIG_DIR,
              workers=1)
    t2 = time.perf_counter()
    with unit_of_work(engine) as conn:
        key = create_key(conn, f"bench-{int(time.time())}", rate_limit=100_000_000,
                         actor=Actor("bench", system=True)).key
    engine.dispose()
    key_file.write_text(key)
    print(f"  store {Path(db_name(url)).name}: {got.read:,} rows; ingest {t1 - t0:.0f}s, batch "
          f"{t2 - t1:.0f}s", flush=True)
    return key


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


class _Server:
    """``ecif serve`` in a child process; CPU and memory of all its processes."""

    def __init__(self, url: str, args: argparse.Namespace, log: Path) -> None:
        env = dict(os.environ, ECIF_DATABASE_URL=url)
        cmd = [sys.executable, "-m", "ecif.cli", "serve", "--port", str(args.port),
               "--server", args.server]
        if args.server == "gunicorn":
            cmd += ["--workers", str(args.workers)]
        cmd += ["--threads", str(args.threads)]
        logging.getLogger().info("serving: %s", " ".join(cmd))
        self.log = log
        with log.open("wb") as err:  # the call log: each call's latency inside the app
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        self.url = url
        self.port = args.port
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._wait_ready()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_ready(self) -> None:
        import http.client

        for _ in range(1200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("the server did not start")

    def processes(self) -> list[psutil.Process]:
        me = psutil.Process(self.proc.pid)
        return [me, *me.children(recursive=True)]

    def cpu(self) -> float:
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[int, float]:
        """CPU seconds of each of the server's processes (master and workers)."""
        out = {}
        for p in self.processes():
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    def memory(self) -> str:
        parts = []
        for p in self.processes():
            try:
                parts.append(p.memory_info().rss / 2**20)
            except psutil.Error:
                pass
        return " + ".join(f"{m:.0f}" for m in parts) + " MiB RSS"

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for p in self.processes():
                try:
                    full = p.memory_full_info()
                    rss += full.rss
                    pss += full.pss
                except psutil.Error:
                    pass
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _bodies(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            check = json.dumps(_probe(row), ensure_ascii=False)
            reg = json.dumps({k: v for k, v in row.items() if v}, ensure_ascii=False)
            f.write(f"{check}\t{reg}\n")


def _wrk(server: _Server, key: str, bodies: Path, seconds: float, connections: int,
         share: float, work: Path, rate: float = 0.0) -> dict[str, Any]:
    out = work / f"wrk-{time.time_ns()}.json"
    env = dict(os.environ, WRK_BODIES=str(bodies), WRK_OUT=str(out), WRK_SHARE=str(share),
               WRK_KEY=key, WRK_THREADS=str(connections), WRK_RATE=str(rate))
    cmd = ["wrk", f"-t{connections}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout",
           "30s", "-s", str(LUA), f"http://127.0.0.1:{server.port}"]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _phase(kind: str, label: str, server: _Server, key: str, bodies: Path, seconds: float,
           connections: int, share: float, work: Path, rate: float = 0.0) -> None:
    load0, pg0 = _load(), pg_backend_cpu(server.url)
    logged = server.log.stat().st_size
    by0 = server.cpu_by_process()
    got = _wrk(server, key, bodies, seconds, connections, share, work, rate)
    by1 = server.cpu_by_process()
    spent = sorted((v - by0.get(p, 0.0) for p, v in by1.items()), reverse=True)
    cpu = sum(spent)
    short = (f"{got['registrations_short']} registrations sent as match-checks (the "
             "applicants used up); " if got.get("registrations_short") else "")
    shares = " / ".join(f"{x / float(got['seconds']):.0%}" for x in spent)
    n = int(got["requests"])
    pg = ""
    if server.url.startswith("postgresql"):
        pg_cpu = sum(v - pg0.get(p, 0.0) for p, v in pg_backend_cpu(server.url).items())
        pg = f", PostgreSQL's backends {pg_cpu / max(n, 1) * 1000:.2f} ms"
    bad = {k: v for k, v in got["statuses"].items()
           if not k.endswith((" 200", " 201"))}
    errors = sum(bad.values()) + int(got["socket_errors"])
    print(f"  {kind}, {label}: {n:,} requests in {got['seconds']:.0f}s = "
          f"{n / got['seconds']:,.0f}/s; errors {errors} {bad or ''}"
          f"{' socket ' + str(got['socket_errors']) if got['socket_errors'] else ''}; "
          f"{short}"
          f"server CPU {cpu / max(n, 1) * 1000:.2f} ms per request{pg} (per process "
          f"{shares} of a core); load average "
          f"{load0} -> {_load()}; server memory now {server.memory()}", flush=True)
    inside = _app_latency(server.log, logged)
    for call, values in sorted(got["latency_ms"].items()):
        if not values:
            continue
        ms = np.asarray(values, dtype=float)
        decisions = {k.split(" ", 1)[1]: v for k, v in got["decisions"].items()
                     if k.startswith(call + " ")}
        print(f"    {call}: {len(ms):,} calls ({len(ms) / got['seconds']:,.0f}/s), "
              f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, "
              f"max {ms.max():.0f} ms; {decisions}", flush=True)
        app = np.asarray(inside.get(call, []), dtype=float)
        if len(app):
            print(f"      inside the app (call log): p50 {np.percentile(app, 50):.1f} ms, "
                  f"p99 {np.percentile(app, 99):.1f} ms, max {app.max():.0f} ms", flush=True)


_CALL = re.compile(r"api key=\S+ POST (/api/v1/\S+) status=\d+ ms=([\d.]+)")


def _app_latency(log: Path, offset: int) -> dict[str, list[float]]:
    """Each call's latency inside the app (from its request hook to its response), from
    the server's call log after ``offset``: the rest of a client's latency is the
    server's queueing and HTTP handling, and the client's."""
    out: dict[str, list[float]] = {"match": [], "register": []}
    with log.open("rb") as f:
        f.seek(offset)
        for line in f.read().decode("utf-8", "replace").splitlines():
            m = _CALL.search(line)
            if m:
                out["match" if m.group(1).endswith("match-check") else "register"].append(
                    float(m.group(2)))
    return out


def _bench(kind: str, store: Path, held: list[dict[str, str]], args: argparse.Namespace,
           work: Path) -> None:
    if kind == "postgresql":
        url = _pg_url(args.pg_database, args.pg_socket)
        if not _pg_exists(args.pg_database) and (args.store / "key-postgresql").exists():
            (args.store / "key-postgresql").unlink()
    else:
        url = f"sqlite:///{args.store / 'api.db'}"
    key = _build(url, store, args.store / f"key-{kind}")
    if args.build_only:
        return
    drop = None
    if args.fresh_copy:
        url, drop = scratch_copy(kind, args, work, "run")
        print(f"  {kind}: serving a fresh copy of the store ({db_name(url)})",
              flush=True)
    try:
        _run(kind, url, key, held, args, work)
    finally:
        if drop is not None:
            drop()


def _run(kind: str, url: str, key: str, held: list[dict[str, str]],
         args: argparse.Namespace, work: Path) -> None:
    engine = make_engine(url)
    print("  " + _peer(engine, held, args.peer), flush=True)
    engine.dispose()
    bodies = work / "bodies.jsonl"
    _bodies(held, bodies)
    # the two mixes register disjoint applicants (a thread registers its share of its
    # file's rows in order): the capacity mix the first third, the paced mix the rest,
    # so that no registration of the paced mix is an earlier one again (the idempotent
    # path, a fraction of the cost)
    third = len(held) // 3
    early, late = work / "bodies-capacity.jsonl", work / "bodies-paced.jsonl"
    _bodies(held[:third], early)
    _bodies(held[third:], late)
    server = _Server(url, args, work / f"server-{kind}.log")
    try:
        print(f"  {kind}: server {args.server}"
              f"{f' {args.workers} workers' if args.server == 'gunicorn' else ''} x "
              f"{args.threads} threads; started with {server.memory()}", flush=True)
        _phase(kind, "warm-up, match-check, 1 connection", server, key, bodies, 5, 1, 0.0,
               work)
        _phase(kind, "match-check alone, 1 connection", server, key, bodies,
               args.short_seconds, 1, 0.0, work)
        mix = f"mix with {args.register_share:.0%} registrations"
        _phase(kind, f"{mix}, capacity: {args.connections} connections, each sending as "
               "soon as it has its answer", server, key, early, args.capacity_seconds,
               args.connections, args.register_share, work)
        _phase(kind, f"{mix}, sustained: paced at {args.rate:.0f} requests/s over "
               f"{args.paced_connections} connections, latency from when each was due",
               server, key, late, args.seconds, args.paced_connections,
               args.register_share, work, rate=args.rate)
        print(f"  {kind}: server peak memory {server.peak_rss / 2**20:,.0f} MiB RSS summed "
              f"over its processes, {server.peak_pss / 2**20:,.0f} MiB PSS (shared pages "
              "counted once)", flush=True)
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--held-out", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--store", type=Path, default=None,
                    help="build the stores here once and reuse them (default: a temp dir)")
    ap.add_argument("--pg-database", default="ecif_bench_api")
    ap.add_argument("--pg-socket", metavar="DIR",
                    help="serve over PostgreSQL's Unix socket in DIR (e.g. /var/run/postgresql) "
                         "instead of TCP to 127.0.0.1")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--fresh-copy", action="store_true",
                    help="serve a copy of each store, dropped after (runs register applicants: "
                    "with it every run starts from the same store)")
    ap.add_argument("--seconds", type=float, default=60, help="the sustained, paced mix")
    ap.add_argument("--rate", type=float, default=300, help="requests/s of the paced mix")
    ap.add_argument("--paced-connections", type=int, default=16)
    ap.add_argument("--short-seconds", type=float, default=20, help="1 connection")
    ap.add_argument("--capacity-seconds", type=float, default=30)
    ap.add_argument("--connections", type=int, default=8, help="the capacity phase")
    ap.add_argument("--server", choices=["gunicorn", "waitress"], default="gunicorn")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--register-share", type=float, default=0.2)
    ap.add_argument("--peer", type=int, default=200, help="requests scored by the peer")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--port", type=int, default=8850)
    args = ap.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    if shutil.which("wrk") is None and not args.build_only:
        sys.exit("bench/api.py needs wrk: apt-get install -y wrk")
    print(f"machine: {machine()}; load average {_load()} at the start "
          f"({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-api-"))
    args.store = args.store or work
    args.store.mkdir(parents=True, exist_ok=True)
    store, held = _data(args)
    print(f"store of {args.records:,} generated rows less {args.held_out:,} held out; "
          f"requests from the {len(held):,} admitted held-out rows", flush=True)
    for kind in args.databases.split(","):
        _bench(kind, store, held, args, work)
    print(f"load average {_load()} at the end "
          f"({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())})", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
