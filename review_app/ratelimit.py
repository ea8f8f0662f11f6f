"""A rate-limit store for Flask-Limiter: ``limits``' in-memory storage without
its expiry timer thread.

``limits``' ``MemoryStorage`` starts a ``threading.Timer`` thread (10 ms) on a
counter increment whenever the previous one has ended: under steady load that
is a new thread for nearly every request (measured: a quarter of a
match-check's time in the app on a busy machine). Expired counters are
dropped on read anyway (``get`` checks the expiry), so this store sweeps
inline, at most once a second, instead. Scheme ``lazymemory://``.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

__all__ = ["LazyMemoryStorage"]


class LazyMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["lazymemory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._swept = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802  (the parent's hook)
        now = time.monotonic()
        if now - self._swept >= 1.0:
            self._swept = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
