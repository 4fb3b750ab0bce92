"""Time several paths side by side and print a table of min, median and ratios.

The paths of one table run round-robin, one call of each per repetition, so that a
slow phase of the machine hits all of them alike. Ratios compare minimums.
"""

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

__all__ = ["Table", "machine", "time_async", "time_sync"]


class Table:
    """Timings of named paths over the same work of ``units`` items (hits, documents)."""

    def __init__(self, title: str, units: int, unit: str, baseline: str) -> None:
        self.title = title
        self.units = units
        self.unit = unit
        self.baseline = baseline
        self.times: dict[str, list[float]] = {}

    def add(self, path: str, seconds: float) -> None:
        self.times.setdefault(path, []).append(seconds)

    def best(self, path: str) -> float:
        return min(self.times[path])

    def ratio(self, path: str, to: str | None = None) -> float:
        return self.best(path) / self.best(to or self.baseline)

    def paired_ratio(self, path: str, to: str | None = None) -> float:
        """The median, over the repetitions, of ``path``'s time over the baseline's in the same round.

        The paths of a round run one after another, so a slow phase of a shared machine
        mostly hits both sides of a pair: steadier than the ratio of minimums, which a
        short path's lucky quiet moment moves (docs/performance.md, "how to read").
        """
        pairs = zip(self.times[path], self.times[to or self.baseline])
        return statistics.median(time / base for time, base in pairs)

    def print(self) -> None:
        reps = min(len(t) for t in self.times.values())
        print(f"\n## {self.title} ({self.units:,} {self.unit}s, {reps} repetitions)\n")
        print(f"| path | min ms | median ms | min µs/{self.unit} | × {self.baseline} | × paired (median) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for path, times in self.times.items():
            best, median = min(times), statistics.median(times)
            per_unit = best / self.units * 1e6
            print(
                f"| {path} | {best * 1e3:.1f} | {median * 1e3:.1f} | {per_unit:.2f} | {self.ratio(path):.2f} "
                f"| {self.paired_ratio(path):.2f} |"
            )


def time_sync(table: Table, paths: Mapping[str, Callable[[], Any]], repetitions: int, warmup: int = 1) -> None:
    """Run each path ``warmup`` times unrecorded, then ``repetitions`` times round-robin."""
    for repetition in range(warmup + repetitions):
        for name, path in paths.items():
            gc.collect()
            start = time.perf_counter()
            path()
            if repetition >= warmup:
                table.add(name, time.perf_counter() - start)


async def time_async(
    table: Table,
    paths: Mapping[str, Callable[[], Awaitable[Any]]],
    repetitions: int,
    warmup: int = 1,
    before: Callable[[], Awaitable[Any]] | None = None,
) -> None:
    """:func:`time_sync` for coroutines; ``before`` runs, untimed, before each call."""
    for repetition in range(warmup + repetitions):
        for name, path in paths.items():
            if before is not None:
                await before()
            gc.collect()
            start = time.perf_counter()
            await path()
            if repetition >= warmup:
                table.add(name, time.perf_counter() - start)


def machine() -> str:
    """One line naming the machine: CPU model, cores, Python."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor() or model
    return f"{model}, {os.cpu_count()} cores, Python {sys.version.split()[0]} ({platform.platform()})"
