"""The rate limit across function instances: two check functions in two processes, one engine flooding both.

Like the exact-count test, this needs an emulator that applies concurrent writes with isolation
(DynamoDB Local, LocalStack): on moto it is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from local.template import ROOT
from tests.integration.monitoring.test_monitoring_exact_counts import _skip_on_moto
from tests.integration.test_containment import SEND, _register, admin  # noqa: F401 - a fixture

RATE, BURST, SYNC, SECONDS = 20, 10, 0.5, 5.0

# One function instance: the real CheckFunction handler in its own process, checking as fast as it
# can for SECONDS from the same instant as the other; prints how many checks were answered 200.
_INSTANCE = """
import json, sys, time
from local.gateway import LambdaContext, load_handler
from local.template import Template
event, start, seconds = json.loads(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
handler = load_handler(Template().functions()["CheckFunction"])
warm = {**event, "headers": {**event["headers"], "x-engine-key": "pfk_" + "w" * 43}}  # a 401: costs no token
handler(warm, LambdaContext("CheckFunction", "warm"))
time.sleep(max(0.0, start - time.time()))
codes = {}
n = 0
while time.time() < start + seconds:
    code = handler(event, LambdaContext("CheckFunction", f"r{n}"))["statusCode"]
    codes[code] = codes.get(code, 0) + 1
    n += 1
print(json.dumps(codes))
"""


def test_two_instances_admit_at_most_one_bucket_plus_one_burst_and_sync_period_each(aws, admin, invoke):  # noqa: F811
    _skip_on_moto()
    # Given: an engine allowed RATE checks a second (BURST at once), and its check event
    engine = _register(invoke, admin, "flood", rate_limit={"per_second": RATE, "burst": BURST})
    event = json.loads((ROOT / "events" / "check" / "check.json").read_text())
    event["headers"].update({"x-engine-id": engine[0], "x-engine-key": engine[1]})
    event["body"] = json.dumps(SEND)
    # When: two instances check as fast as they can for SECONDS, sharing their use every SYNC seconds
    start = time.time() + 15  # after both cold starts
    env = {**os.environ, "PURAIFY_RATE_LIMIT_SYNC_SECONDS": str(SYNC), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    instances = [
        subprocess.Popen(
            [sys.executable, "-c", _INSTANCE, json.dumps(event), str(start), str(SECONDS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in instances]
    admitted = sum(o.get("200", 0) for o in outputs)
    # Then: both were refused often, and together they admitted no more than one logical bucket over
    # the run, plus for the second instance one burst and one sync period of rate (README, Security)
    assert all(o.get("429", 0) > 0 for o in outputs), outputs
    one_bucket = BURST + RATE * SECONDS
    assert admitted <= one_bucket + (BURST + RATE * SYNC), outputs
    assert admitted >= 0.8 * one_bucket, outputs  # the limit is not stricter than it says
