"""SQLite writers take turns (``models.lock.sqlite_writer_turn``): within a process
they queue on a lock of the process, so a waiting thread sleeps instead of polling
the ``flock`` every millisecond; across processes the ``flock`` decides, and a
writer that waits longer than its bound gets :class:`JobBusy`."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import models.lock as lock
from models.db import make_engine
from models.lock import JobBusy, sqlite_writer_turn


def test_threads_of_one_process_wait_without_polling(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    tries: list[int] = []
    real = fcntl.flock

    def counted(fd: int, op: int) -> None:
        tries.append(op)
        real(fd, op)

    monkeypatch.setattr(lock.fcntl, "flock", counted)
    inside: list[int] = []
    order: list[int] = []
    start = threading.Barrier(4)

    def writer(i: int) -> None:
        start.wait()
        with sqlite_writer_turn(engine, "a test write"):
            inside.append(i)
            assert len(inside) == 1  # one writer at a time
            order.append(i)
            time.sleep(0.15)
            inside.remove(i)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(order) == [0, 1, 2, 3]
    # 0.45 s of waiting by three threads: one flock attempt each, not one per millisecond
    assert len(tries) == 4


def test_a_writer_of_another_process_holds_the_turn(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    held = tmp_path / "w.db.writer"
    other = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         f"fd = os.open({str(held)!r}, os.O_RDWR | os.O_CREAT, 0o644)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(JobBusy, match="another writer"):
            with sqlite_writer_turn(engine, "a test write", wait=0.3):
                pass
        assert time.monotonic() - t0 >= 0.3
    finally:
        other.kill()
        other.wait()
        if other.stdout is not None:
            other.stdout.close()
    # the turn is free again once that process is gone, and this process's lock too
    with sqlite_writer_turn(engine, "a test write", wait=1.0):
        assert os.path.exists(held)
