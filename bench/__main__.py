"""``make bench``: runs every ``bench/bench_*.py`` and writes one markdown report.

Each module has ``run() -> str`` returning its markdown section (tables of medians and ratios
measured side by side in the same run). A full run writes the report to
``bench/results/<date>.md`` and ``bench/results/latest.md``; ``python -m bench NAME`` runs and prints one part.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]


def main() -> None:
    only = sys.argv[1:]
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    sections = [
        "# PURAIFY benchmarks",
        f"Run {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Reproduce: `make bench`.",
        "Load average at the start: {:.1f} / {:.1f} / {:.1f} (1 / 5 / 15 min); the machine is shared.".format(
            *os.getloadavg()
        ),
    ]
    sections.append(
        f"Machine speed: {calibration_ms():.1f} ms for a fixed pure-Python workload (median of 7; compare runs by "
        "this, since this shared virtual machine's speed drifts by a third from one hour to the next)."
    )
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        section = importlib.import_module(f"bench.{name}").run()
        sections.append(section.strip())
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    report = "\n\n".join(sections) + "\n"
    print(report)
    if only:
        return  # a partial run never replaces the full report
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text(report)
    (results / f"{time.strftime('%Y-%m-%d')}.md").write_text(report)


def calibration_ms() -> float:
    """How long a fixed workload (dict, string and arithmetic work, like a handler's) takes here now."""
    import statistics

    def work() -> int:
        total = 0
        for i in range(200_000):
            record = {"n": i, "s": str(i)}
            total += len(record["s"]) + (i % 7)
        return total

    times = []
    for _ in range(7):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


if __name__ == "__main__":
    main()
