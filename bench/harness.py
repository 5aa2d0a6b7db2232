"""What the benchmarks share: an embedded AWS endpoint with the template's resources, and tables."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from local.resources import create_all
from local.runner import aws_environment
from local.template import Template

# A benchmark's engine asks thousands of times a second: above the stack's default rate limit every answer would be
# a 429 before any work (the limiter's own cost is measured in bench_containment). Its limit, as an engine's own.
UNLIMITED = {"per_second": 100_000, "burst": 1_000_000}


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1; this process's environment is restored afterwards."""
    from local.runner import start_moto
    from puraify import wiring

    server = start_moto(port=0)
    host, port = server.get_host_and_port()
    saved = dict(os.environ)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        wiring.reset()


def use_template(endpoint: str, prefix: str, **environment: str) -> Template:
    """Create the template's resources under ``prefix`` and point this process at them, as a Lambda's."""
    from puraify import wiring

    template = Template(prefix=prefix)
    os.environ.update(aws_environment(endpoint))
    create_all(template)
    os.environ.update({**template.environment(), **environment})
    wiring.reset()
    return template


def latency_table(rows: dict[str, dict[str, float]]) -> list[str]:
    """Markdown rows of p50 / p99 / mean in microseconds (from ``stats.summary_us``)."""
    lines = ["| what | p50 (us) | p99 (us) | mean (us) |", "|---|---:|---:|---:|"]
    return lines + [f"| {name} | {r['p50']:.1f} | {r['p99']:.1f} | {r['mean']:.1f} |" for name, r in rows.items()]


def quiet_logs() -> IO[str]:
    """Send the service's log lines (still formatted: that cost is real) to /dev/null; returns the sink."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives for the benchmark
    for handler in logging.getLogger("puraify").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    return sink
