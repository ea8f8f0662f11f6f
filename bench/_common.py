"""Shared by the benchmark scripts: machine description and process-tree memory."""

from __future__ import annotations

import os
import platform
import threading

import psutil

__all__ = ["TreeMemory", "machine"]


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")


class TreeMemory:
    """Samples the summed RSS of this process and its children every 100 ms,
    and the CPU time each of them has used (so the CPU seconds of a run can be
    told apart from the wall-clock seconds on a shared machine)."""

    def __init__(self) -> None:
        self.peak = 0
        self._cpu: dict[int, float] = {}
        self._cpu_start = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                    times = proc.cpu_times()
                    self._cpu[proc.pid] = times.user + times.system
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.1)

    def __enter__(self) -> TreeMemory:
        times = psutil.Process().cpu_times()
        self._cpu_start = times.user + times.system
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_gib(self) -> float:
        return self.peak / 2**30

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds used by the process tree while sampled (children's last
        100 ms before they exit may be missed)."""
        return sum(self._cpu.values()) - self._cpu_start
