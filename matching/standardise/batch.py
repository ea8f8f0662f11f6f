"""The batch path: standardise whole tables, chunk by chunk, on every core.

Each row goes through :func:`standardise_record` — the one definition — with
the field results cached by distinct value per process. Chunks are spread
over a process pool with a bounded number in flight, so memory stays flat
whatever the input size, and results come back in input order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from matching.config import CodeMaps
from matching.standardise.columns import OUTPUT_COLUMNS
from matching.standardise.record import standardise_record

__all__ = ["StandardisedChunk", "standardise_frame", "standardise_chunks"]

#: Below this many rows a pool costs more than it saves.
_POOL_MIN_ROWS = 20_000


@dataclass(frozen=True)
class StandardisedChunk:
    """One chunk's result: admitted rows (OUTPUT_COLUMNS) and rejected raw rows
    (the input columns as read, plus ``reasons``)."""

    admitted: pd.DataFrame
    rejected: pd.DataFrame


def standardise_frame(frame: pd.DataFrame, codes: CodeMaps) -> StandardisedChunk:
    """Standardise a DataFrame of source rows (all text) in this process."""
    columns = [str(c) for c in frame.columns]
    admitted: list[list[str | None]] = []
    rejected_idx: list[int] = []
    reasons: list[str] = []
    values = frame.to_numpy(dtype=object, na_value="")
    for i, raw in enumerate(values):
        outcome = standardise_record(dict(zip(columns, raw, strict=True)), codes)
        if outcome.rejected:
            rejected_idx.append(i)
            reasons.append(";".join(outcome.rejected))
        else:
            rec = outcome.record
            admitted.append([rec[c] for c in OUTPUT_COLUMNS])
    ok = pd.DataFrame(admitted, columns=list(OUTPUT_COLUMNS), dtype=object)
    bad = frame.iloc[rejected_idx].copy()
    bad["reasons"] = reasons
    return StandardisedChunk(ok, bad.reset_index(drop=True))


_WORKER_CODES: CodeMaps | None = None


def _init_worker(codes: CodeMaps) -> None:
    global _WORKER_CODES
    _WORKER_CODES = codes


def _work(frame: pd.DataFrame) -> StandardisedChunk:
    assert _WORKER_CODES is not None, "worker not initialised"
    return standardise_frame(frame, _WORKER_CODES)


def standardise_chunks(
    chunks: Iterable[pd.DataFrame], codes: CodeMaps, workers: int | None = None
) -> Iterator[StandardisedChunk]:
    """Standardise a stream of chunks, in order, on ``workers`` processes
    (default: every core). At most ``2 × workers`` chunks are in flight."""
    workers = workers or os.cpu_count() or 1
    it = iter(chunks)
    first = next(it, None)
    if first is None:
        return
    if workers <= 1 or len(first) < _POOL_MIN_ROWS:
        yield standardise_frame(first, codes)
        for chunk in it:
            yield standardise_frame(chunk, codes)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(codes,)) as pool:
        pending: deque[Future[StandardisedChunk]] = deque([pool.submit(_work, first)])
        for chunk in it:
            pending.append(pool.submit(_work, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
