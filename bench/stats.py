"""Timing helpers shared by the benchmarks: percentiles of repeated warm calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def sample(call: Callable[[], object], count: int, warmup: int = 200) -> list[float]:
    """Seconds per call for ``count`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary_us(times: list[float]) -> dict[str, float]:
    """p50, p99 and mean in microseconds."""
    return {
        "p50": percentile(times, 0.50) * 1e6,
        "p99": percentile(times, 0.99) * 1e6,
        "mean": statistics.fmean(times) * 1e6,
    }


def interleaved(calls: dict[str, Callable[[], object]], count: int, rounds: int = 10) -> dict[str, list[float]]:
    """Sample several calls in alternating rounds, so machine noise hits them alike."""
    for call in calls.values():
        sample(call, 0, warmup=200)
    results: dict[str, list[float]] = {name: [] for name in calls}
    per_round = max(1, count // rounds)
    for _ in range(rounds):
        for name, call in calls.items():
            results[name].extend(sample(call, per_round, warmup=0))
    return results
