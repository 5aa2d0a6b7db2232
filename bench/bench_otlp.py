"""OTLP logs in: what ``opentelemetry-proto`` adds to the log function's cold start, and a warm export's parse.

Cold: fresh interpreters (as a new Lambda instance), each timing inside itself, in order: importing
the log function's handler module (``functions/log/app.py``, the baseline), then the proto package
(``opentelemetry-proto`` and protobuf, imported by the first export, not with the module), then the
first export's parse and mapping. The other routes of the function never import the proto package.

Warm: parsing and mapping a 100-record protobuf export (no store), per record.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 9

_CHILD = """
import importlib.util, sys, time
sys.path[:0] = [{core!r}]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("log_app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = time.perf_counter()
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from google.protobuf import json_format
proto = time.perf_counter()
from puraify.monitoring import otlp
otlp.map_records(otlp.parse_request({body!r}, otlp.PROTOBUF))
done = time.perf_counter()
print((imported - started) * 1000, (proto - imported) * 1000, (done - proto) * 1000)
"""


def _export(records: int) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    for key, value in (("service.name", "bench-engine"), ("puraify.project_id", "bench")):
        attribute = resource.resource.attributes.add()
        attribute.key, attribute.value.string_value = key, value
    scope = resource.scope_logs.add()
    for n in range(records):
        record = scope.log_records.add()
        record.time_unix_nano = 1_795_316_400_000_000_000 + n
        record.severity_number = 17 if n % 10 == 0 else 9
        record.body.string_value = f"record {n}"
        record.trace_id = bytes(range(16))
        record.span_id = bytes(range(8))
        attribute = record.attributes.add()
        attribute.key, attribute.value.string_value = "flow_id", "checkout"
    return request.SerializeToString()


def _cold(body: bytes) -> list[float]:
    """(the app's import, the proto import after it, the first export's parse and mapping), in ms."""
    app = str(ROOT / "functions" / "log" / "app.py")
    code = _CHILD.format(core=str(ROOT / "layers" / "core"), app=app, body=body)
    env = {"POWERTOOLS_METRICS_NAMESPACE": "bench", "AWS_DEFAULT_REGION": "us-east-1", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    return [float(x) for x in out.stdout.split()[-3:]]


def run() -> str:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]
    body = _export(1)
    runs = [_cold(body) for _ in range(RUNS)]
    app, proto, first = (statistics.median(r[n] for r in runs) for n in range(3))
    from puraify.monitoring import otlp

    warm_body = _export(100)
    times = []
    for _ in range(30):
        started = time.perf_counter()
        otlp.map_records(otlp.parse_request(warm_body, otlp.PROTOBUF))
        times.append(time.perf_counter() - started)
    warm = statistics.median(times) * 1e6 / 100
    return f"""## OTLP logs in (`POST /v1/logs`)

Cold start in fresh interpreters (a new Lambda instance), median of {RUNS} runs (ms):

| step | median ms | vs the app's import |
|---|---|---|
| import the log function (`functions/log/app.py`), the baseline | {app:.1f} | 1.00 |
| then import `opentelemetry-proto` (logs service) and protobuf's JSON mapping | {proto:.1f} | {proto / app:.2f} |
| then the first export parsed and mapped (builds the event schema, as ingest does) | {first:.1f} | {first / app:.2f} |

Warm: parsing and mapping a 100-record protobuf export costs {warm:.1f} us per record (median of 30).
Only `POST /v1/logs` pays the import; the function's other routes never import `opentelemetry-proto`.
"""
