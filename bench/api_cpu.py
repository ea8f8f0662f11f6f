"""CPU per request of the integrators' API, in process: the app's own cost of a
match-check and of a registration, without an HTTP server or a load generator.

On a store that ``bench/api.py --build-only`` made (``--store DIR``: its
``held.csv`` applicants and its bench key), a scratch copy of each database
(SQLite: a copy of the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``) so
every run starts from the same store. The app (``create_app``) is called as a
WSGI application with a ready-made environ (what gunicorn hands it, without
its HTTP parsing), one request at a time, after a warm-up:

- ``--requests`` match-checks of the applicants (read-only);
- ``--registrations`` registrations of other applicants (each one new).

Each phase runs ``--rounds`` times (the match-checks on the same applicants,
the registrations each on applicants of their own) and the least CPU per call
of the rounds is the figure: on a shared machine other processes only ever
add to it (their cache and scheduling effects), so the minimum is the
steadiest comparison between two versions of the code; the median is printed
beside it.

Printed per phase: the CPU time of this process per request (the app, and
SQLite's work in it) with its p50 / p99 / max over the calls (the tail is the
common names' large blocks), PostgreSQL's backend CPU per request (the server
processes serving the scratch database), the wall time per request, and the
mix of ``--register-share`` registrations. ``--answers F`` writes every
answer (status and body) to F; ``--compare F`` checks them against an
earlier run's file (the results must not change with the code's speed).
``--profile DIR`` writes a pyinstrument profile of each phase.

    .venv/bin/python bench/api_cpu.py --store /tmp/api100k --databases sqlite,postgresql \\
        --pg-database ecif_bench_api
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import machine  # noqa: E402
from bench.api import _data, _probe, pg_backend_cpu, scratch_copy  # noqa: E402


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class _Wsgi:
    """Calls the app as a WSGI server would, one request at a time."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.key = key

    def call(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        environ = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8850",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)),
            "HTTP_HOST": "127.0.0.1:8850", "HTTP_X_API_KEY": self.key,
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status: list[str] = []

        def start_response(s: str, _headers: Any, _exc: Any = None) -> Any:
            status.append(s)
            return None

        chunks = self.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return int(status[0].split(" ", 1)[0]), payload


def _rounds(label: str, wsgi: _Wsgi, url: str,
            rounds: list[list[tuple[str, str, dict[str, Any]]]], answers: list[Any],
            profile: Path | None) -> float:
    """Each round of calls in turn (answers and profile of the first); print and return
    the least CPU ms per call (app + PostgreSQL's backends)."""
    got = [_phase(f"{label}, round {i + 1}", wsgi, url, calls, answers if i == 0 else [],
                  profile if i == 0 else None, profile_as=label)
           for i, calls in enumerate(rounds)]
    print(f"    {label}: least {min(got):.2f} ms, median {float(np.median(got)):.2f} ms "
          f"CPU per call over {len(got)} rounds", flush=True)
    return min(got)


def _phase(label: str, wsgi: _Wsgi, url: str, calls: list[tuple[str, str, dict[str, Any]]],
           answers: list[Any], profile: Path | None, profile_as: str = "") -> float:
    """Run the calls; print and return the app's CPU ms per call (+ PostgreSQL's)."""
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    pg0 = pg_backend_cpu(url)
    load0 = _load()
    c0, w0 = time.process_time(), time.perf_counter()
    bad = 0
    each = []  # the app's CPU of each call (the tail: common names' large blocks)
    for method, path, body in calls:
        t0 = time.process_time()
        status, payload = wsgi.call(method, path, body)
        each.append(time.process_time() - t0)
        if status not in (200, 201):
            bad += 1
        answers.append([label.split(",")[0], status, json.loads(payload)])
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    pg1 = pg_backend_cpu(url)
    pg = sum(v - pg0.get(pid, 0.0) for pid, v in pg1.items())
    if profiler is not None and profile is not None:
        profiler.stop()
        out = profile / f"{(profile_as or label).replace(' ', '_')}.txt"
        out.write_text(profiler.output_text(unicode=True, show_all=False))
        profiler.write_html(str(out.with_suffix(".html")))
        out.with_suffix(".all.txt").write_text(profiler.output_text(unicode=True,
                                                                    show_all=True))
    n = max(len(calls), 1)
    pg_text = f", PostgreSQL backends {pg / n * 1000:.2f} ms" if url.startswith("postgres") \
        else ""
    p50, p99, top = (np.percentile(each, [50, 99, 100]) * 1000 if each else (0, 0, 0))
    print(f"    {label}: {len(calls):,} calls, errors {bad}; CPU per call: app "
          f"{cpu / n * 1000:.2f} ms{pg_text} (app's per call p50 {p50:.2f} / p99 {p99:.2f} / "
          f"max {top:.1f} ms); wall {wall / n * 1000:.2f} ms; load average "
          f"{load0} -> {_load()}", flush=True)
    return (cpu + pg) / n * 1000


def _bench(kind: str, held: list[dict[str, str]], args: argparse.Namespace, work: Path,
           answers: list[Any]) -> None:
    from review_app import create_app
    from review_app.db import get_engine

    key = (args.store / f"key-{kind}").read_text().strip()
    url, drop = scratch_copy(kind, args, work, "cpu")
    try:
        app = create_app({"ECIF_DATABASE_URL": url})
        wsgi = _Wsgi(app, key)
        n, m, r = args.requests, args.registrations, args.rounds
        checks = [("POST", "/api/v1/match-check", _probe(row)) for row in held[:n]]
        regs = [[("POST", "/api/v1/customers", {k: v for k, v in row.items() if v})
                 for row in held[n + i * m:n + (i + 1) * m]] for i in range(r)]
        warm = [("POST", "/api/v1/match-check", _probe(r)) for r in held[-args.warm_up:]]
        print(f"  {kind}:", flush=True)
        _phase("warm-up", wsgi, url, warm, [], None)
        prof = args.profile
        if prof is not None:
            prof.mkdir(parents=True, exist_ok=True)
        mc = _rounds(f"{kind} match-check", wsgi, url, [checks] * r, answers, prof)
        reg = _rounds(f"{kind} registration", wsgi, url, regs, answers, prof)
        share = args.register_share
        print(f"    mix with {share:.0%} registrations: {(1 - share) * mc + share * reg:.2f} ms "
              "CPU per request (app" + (" + PostgreSQL backends" if kind == "postgresql"
                                        else "") + ")", flush=True)
        with app.app_context():
            get_engine().dispose()
    finally:
        drop()


def _compare(answers: list[Any], path: Path) -> None:
    earlier = json.loads(path.read_text())
    if len(earlier) != len(answers):
        print(f"  answers: {len(answers)} now, {len(earlier)} in {path}: NOT COMPARABLE")
        return
    diff = sum(1 for a, b in zip(answers, earlier, strict=True) if a != b)
    print(f"  answers compared with {path}: {len(answers) - diff:,} identical, {diff} differ",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a bench/api.py store")
    ap.add_argument("--records", type=int, default=100_000, help="as the store was built")
    ap.add_argument("--held-out", type=int, default=30_000, help="as the store was built")
    ap.add_argument("--seed", type=int, default=5, help="as the store was built")
    ap.add_argument("--pg-database", default="ecif_bench_api")
    ap.add_argument("--pg-socket", metavar="DIR",
                    help="connect over PostgreSQL's Unix socket in DIR instead of TCP")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--requests", type=int, default=2000, help="match-checks")
    ap.add_argument("--registrations", type=int, default=400)
    ap.add_argument("--warm-up", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--register-share", type=float, default=0.2)
    ap.add_argument("--answers", type=Path, help="write every answer here")
    ap.add_argument("--compare", type=Path, help="compare the answers with this file")
    ap.add_argument("--profile", type=Path, help="write pyinstrument profiles here")
    args = ap.parse_args()
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)
    print(f"machine: {machine()}; load average {_load()} at the start "
          f"({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())})", flush=True)
    _store, held = _data(args)
    print(f"store {args.store}: {len(held):,} admitted applicants", flush=True)
    work = Path(tempfile.mkdtemp(prefix="ecif-bench-apicpu-"))
    answers: list[Any] = []
    try:
        for kind in args.databases.split(","):
            _bench(kind, held, args, work, answers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.answers:
        args.answers.write_text(json.dumps(answers, ensure_ascii=False))
    if args.compare:
        _compare(answers, args.compare)
    print(f"load average {_load()} at the end "
          f"({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())})", flush=True)


if __name__ == "__main__":
    main()
