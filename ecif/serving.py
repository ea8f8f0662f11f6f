"""WSGI servers for ``ecif serve``: waitress (one process, threads: the default,
portable) or gunicorn (``--server gunicorn``: several worker processes forked
from one loaded app, for a machine's cores; POSIX only).

Under gunicorn the app is built once in the master (``preload_app``), with the
match-check's models and term frequencies loaded, so each worker starts warm
and shares those pages until it writes to them; each worker drops the
connections it inherited (``engine.dispose(close=False)``) and opens its own.
A worker is ``gthread`` (keep-alive connections, ``--threads`` per worker)
when ``--threads`` > 1, else ``sync``.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from flask import Flask

from ecif.settings import memory_dir

__all__ = ["serve_waitress", "serve_gunicorn", "warm_up"]

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> None:
    """Load what the first match-check would (models, term frequencies) now, then
    move everything loaded so far out of the garbage collector's sight
    (``gc.freeze``): under gunicorn the workers forked from this process keep
    sharing those pages, which the collector's bookkeeping would otherwise copy
    into each worker (1M-record store, 2 workers: 952 → 812 MiB PSS; the latency
    did not change, docs/api.md). What a worker loads later (a reload after a
    batch) is collected as usual."""
    from review_app.api.views import matcher
    from review_app.db import get_engine

    with app.app_context():
        engine = get_engine()
        with engine.connect() as conn:
            matcher().refresh(conn)
        engine.dispose()
    gc.collect()
    gc.freeze()


def serve_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    from waitress import serve

    serve(app, host=host, port=port, threads=threads, ident="")


def serve_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int,
                   timeout: int = 60) -> None:
    from gunicorn.app.base import BaseApplication

    def post_fork(_server: Any, _worker: Any) -> None:
        # connections opened in the master must not be shared by two processes
        with app.app_context():
            from review_app.db import get_engine

            get_engine().dispose(close=False)

    options = {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync", "preload_app": True,
        "keepalive": 5, "timeout": timeout, "graceful_timeout": 10, "accesslog": None,
        "post_fork": post_fork,
    }
    shm = memory_dir()
    if shm:
        # each worker's heartbeat (a file's mtime set at every turn of its loop, i.e.
        # about twice a request) in memory rather than on the temp directory's disk
        options["worker_tmp_dir"] = shm

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _Server().run()
