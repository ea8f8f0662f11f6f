"""``ecif serve --server gunicorn``: worker processes forked from one loaded app
answer the API over keep-alive connections, and a key revoked in the store is
refused by every worker at the next call (no worker trusts a cached key)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ecif.services.apikeys import create_key, revoke_key
from ecif.services.base import Actor, unit_of_work
from models.db import init_db, make_engine

OPERATOR = Actor("test", system=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_workers_answer_and_revocation_holds_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    init_db(engine)
    with unit_of_work(engine) as conn:
        key = create_key(conn, "serve-test", actor=OPERATOR).key
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecif.cli", "serve", "--server", "gunicorn", "--workers", "2",
         "--threads", "2", "--port", str(port)],
        env={**os.environ, "ECIF_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        for _ in range(150):
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                time.sleep(0.2)
            finally:
                probe.close()
        body = json.dumps({"customer_type": "P", "name": "张三", "birth_date": "1980-01-01"})
        headers = {"X-API-Key": key, "Content-Type": "application/json"}

        def statuses(n: int) -> list[int]:
            # a new connection each time: the kernel spreads them over the workers
            out = []
            for _ in range(n):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                c.request("POST", "/api/v1/match-check", body=body, headers=headers)
                answer = c.getresponse()
                payload = json.loads(answer.read())
                out.append(answer.status)
                if answer.status == 200:
                    assert payload["decision"] == "new"
                # and a second call on the same (keep-alive) connection
                c.request("POST", "/api/v1/match-check", body=body, headers=headers)
                second = c.getresponse()
                second.read()
                out.append(second.status)
                c.close()
            return out

        assert set(statuses(10)) == {200}
        with unit_of_work(engine) as conn:
            revoke_key(conn, "serve-test", actor=OPERATOR)
        assert set(statuses(10)) == {401}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        engine.dispose()
    # every call is in the call log (without -v), with its status, and no field of the body
    calls = [line for line in log.splitlines() if "ecif.api: api key=" in line]
    assert sum("status=200" in line for line in calls) == 20, log
    assert sum("status=401" in line for line in calls) == 20, log
    assert "张三" not in log and "1980-01-01" not in log


def test_serve_keeps_two_connections_per_thread(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """``ecif serve`` sizes each process's pool for its threads (a request can hold its
    read connection and a write transaction): gunicorn per worker, waitress per process."""
    import ecif.serving as serving
    from ecif.cli.app import _serve

    url = f"sqlite:///{tmp_path / 'pool.db'}"
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    kept: dict[str, int] = {}

    def pool_of(name: str) -> Any:
        return lambda app, *_args, **_kw: kept.__setitem__(
            name, app.extensions["ecif_engine"].pool.size())

    monkeypatch.setattr(serving, "serve_gunicorn", pool_of("gunicorn"))
    monkeypatch.setattr(serving, "serve_waitress", pool_of("waitress"))
    _serve(url, "127.0.0.1", 0, 6, server="gunicorn", workers=2, gunicorn_threads=4)
    _serve(url, "127.0.0.1", 0, 6, server="waitress")
    assert kept == {"gunicorn": 8, "waitress": 12}
