"""Chunks through a pool of worker processes, in order, with a bounded number in flight.

Workers fork from a server that has the named modules imported already
(``forkserver`` with preload), so a worker starts in milliseconds and shares
nothing with the parent but what it is sent. Each watches the process that
started the pool and exits when it is gone: a parent killed with SIGKILL
leaves no worker behind (a pool worker blocked on its task queue would
otherwise wait forever, because it holds that queue's write end itself).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain
from typing import Any, TypeVar

__all__ = ["map_ordered", "POOL_MIN_ROWS"]

T = TypeVar("T")
R = TypeVar("R")

#: Below this many rows in the first chunk a pool costs more than it saves.
POOL_MIN_ROWS = 20_000
_WATCH_SECONDS = 0.5


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: not gone, and not a zombie (a parent killed while its own
    parent is busy elsewhere stays a zombie, and ``kill(pid, 0)`` still succeeds)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def _watch_parent(parent: int) -> None:
    """Exit this worker as soon as ``parent`` has died."""
    while _alive(parent):
        time.sleep(_WATCH_SECONDS)
    os._exit(1)


def _init_worker(parent: int, initializer: Callable[..., None] | None,
                 initargs: tuple[Any, ...]) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="watch-parent").start()
    if initializer is not None:
        initializer(*initargs)


def map_ordered(function: Callable[[T], R], items: Iterable[T], *, workers: int | None,
                preload: Iterable[str] = (), initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = (),
                rows: Callable[[T], int] | None = None) -> Generator[R, None, None]:
    """Yield ``function(item)`` for each item, in order, on ``workers`` processes
    (default: every core); at most ``2 × workers`` items are in flight. ``function``
    (and ``initializer``) must be picklable: module-level functions or partials of
    them. With one worker, one item, or a first item below POOL_MIN_ROWS rows
    (``rows(item)``, by default its length if it has one), everything runs in this
    process: starting a pool costs seconds."""
    workers = workers or os.cpu_count() or 1
    it = iter(items)
    first = next(it, None)
    if first is None:
        return
    size = rows(first) if rows else len(first) if isinstance(first, Sized) else POOL_MIN_ROWS
    second = next(it, None) if workers > 1 and size >= POOL_MIN_ROWS else None
    if second is None:  # one worker, a small first item, or one item: no pool to start
        if initializer is not None:
            initializer(*initargs)
        yield function(first)
        for item in it:
            yield function(item)
        return
    it = chain([second], it)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__, *preload])
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(os.getpid(), initializer, initargs))
    try:
        pending: deque[Future[R]] = deque([pool.submit(function, first)])
        for item in it:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
