"""Engine SDK overhead: ``cp.actions.check`` versus a bare httpx POST of the same request.

1. Over real HTTP against the local runner (gateway + real handlers + a moto server on a free
   port of 127.0.0.1), interleaved in rounds: the async SDK beside a bare ``httpx.AsyncClient``
   POST (both on one event loop, both keeping their connection alive), and the sync facade
   beside a bare ``httpx.Client`` POST. Target: SDK / bare <= 1.15 at p50.
2. The SDK's own cost without a network: the same two calls against an ``httpx.MockTransport``
   that answers at once, so the difference is request building, retry bookkeeping and response
   validation alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from typing import Any

import httpx

from bench.harness import UNLIMITED, moto_endpoint
from bench.stats import interleaved, summary_us

ADMIN_KEY = "pfk_bench-sdk-admin-key-0123456789abcdefghijklmnop"
HTTP_CALLS = 2000
LOCAL_CALLS = 20000
CHECK = {"platform": "gmail", "action_type": "send_email"}


def _quiet() -> None:
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives for the benchmark
    for name in ("puraify", "werkzeug", "httpx"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)
        logger.setLevel(logging.WARNING)


def _rows(results: dict[str, list[float]], pairs: list[tuple[str, str]]) -> list[str]:
    lines = ["| call | p50 (µs) | p99 (µs) | mean (µs) |", "|---|---:|---:|---:|"]
    for name, times in results.items():
        s = summary_us(times)
        lines.append(f"| {name} | {s['p50']:.0f} | {s['p99']:.0f} | {s['mean']:.0f} |")
    lines.append("")
    lines.append("| ratio | p50 | mean |")
    lines.append("|---|---:|---:|")
    for sdk, bare in pairs:
        a, b = summary_us(results[sdk]), summary_us(results[bare])
        lines.append(f"| {sdk} / {bare} | {a['p50'] / b['p50']:.3f} | {a['mean'] / b['mean']:.3f} |")
    return lines


def over_http() -> tuple[str, dict[str, float]]:
    with moto_endpoint() as endpoint:
        return _over_http(endpoint)


def _over_http(endpoint: str) -> tuple[str, dict[str, float]]:
    from local.runner import LocalControlPlane
    from puraify_client import ControlPlane, SyncControlPlane
    from puraify_client.services.engines import RateLimit

    os.environ.update({"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    plane = LocalControlPlane(port=0, endpoint_url=endpoint, admin_key=ADMIN_KEY, prefix="bench-sdk-", schedules=False)
    loop = asyncio.new_event_loop()
    try:
        plane.start()
        _quiet()

        async def setup() -> tuple[ControlPlane, httpx.AsyncClient, str]:
            async with ControlPlane(plane.base_url, "admin", ADMIN_KEY) as admin:
                created = await admin.engines.register(
                    "bench-sdk", permissions={"gmail": ["send_email"]}, rate_limit=RateLimit(**UNLIMITED)
                )
            key = created.engine_key.get_secret_value()
            headers = {"X-Engine-ID": "bench-sdk", "X-Engine-Key": key, "Content-Type": "application/json"}
            return ControlPlane(plane.base_url, "bench-sdk", key), httpx.AsyncClient(headers=headers), key

        cp, bare, key = loop.run_until_complete(setup())
        url = f"{plane.base_url}/actions/check"
        body = json.dumps(CHECK).encode()
        sync_cp = SyncControlPlane(plane.base_url, "bench-sdk", key)
        sync_bare = httpx.Client(headers=dict(bare.headers))

        def sdk_async() -> Any:
            decision = loop.run_until_complete(cp.actions.check("gmail", "send_email"))
            assert decision.allowed
            return decision

        def bare_async() -> Any:
            response = loop.run_until_complete(bare.post(url, content=body))
            assert response.status_code == 200 and response.json()["allowed"]
            return response

        def sdk_sync() -> Any:
            return sync_cp.actions.check("gmail", "send_email")

        def bare_sync() -> Any:
            response = sync_bare.post(url, content=body)
            assert response.status_code == 200 and response.json()["allowed"]
            return response

        # Powertools prints a metrics line every 100 checks even when disabled: not for the report.
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            results = interleaved(
                {
                    "SDK async cp.actions.check": sdk_async,
                    "bare httpx.AsyncClient POST": bare_async,
                    "SDK sync facade check": sdk_sync,
                    "bare httpx.Client POST": bare_sync,
                },
                count=HTTP_CALLS,
            )
        sync_cp.close()
        sync_bare.close()
        loop.run_until_complete(cp.aclose())
        loop.run_until_complete(bare.aclose())
    finally:
        loop.close()
        plane.stop()
    pairs = [
        ("SDK async cp.actions.check", "bare httpx.AsyncClient POST"),
        ("SDK sync facade check", "bare httpx.Client POST"),
    ]
    ratio = summary_us(results[pairs[0][0]])["p50"] / summary_us(results[pairs[0][1]])["p50"]
    lines = [
        f"### Over HTTP against the local runner ({HTTP_CALLS} calls each, 10 interleaved rounds)",
        "",
        *_rows(results, pairs),
        "",
        f"Target: async SDK / bare POST <= 1.15 at p50: **{ratio:.3f}** ({'met' if ratio <= 1.15 else 'NOT met'}).",
    ]
    return "\n".join(lines), {"ratio_p50": ratio}


def without_network() -> str:
    from puraify_client import ControlPlane

    answer = json.dumps(
        {
            "allowed": True,
            "required_scopes": ["mail.send"],
            "reason": None,
            "rule": None,
            "engine_id": "bench-sdk",
            "platform": "gmail",
            "action_type": "send_email",
            "request_id": "r",
        }
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=answer, headers={"content-type": "application/json"})

    loop = asyncio.new_event_loop()
    headers = {"X-Engine-ID": "bench-sdk", "X-Engine-Key": "k", "Content-Type": "application/json"}
    bare = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://plane.test", headers=headers)
    mocked = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://plane.test")
    cp = ControlPlane("http://plane.test", "bench-sdk", "k", http=mocked)
    body = json.dumps(CHECK).encode()
    try:
        results = interleaved(
            {
                "SDK cp.actions.check (mock transport)": lambda: loop.run_until_complete(
                    cp.actions.check("gmail", "send_email")
                ),
                "bare POST + json() (mock transport)": lambda: loop.run_until_complete(
                    bare.post("/actions/check", content=body)
                ).json(),
            },
            count=LOCAL_CALLS,
        )
        loop.run_until_complete(cp.aclose())
        loop.run_until_complete(bare.aclose())
    finally:
        loop.close()
    sdk = summary_us(results["SDK cp.actions.check (mock transport)"])
    base = summary_us(results["bare POST + json() (mock transport)"])
    return "\n".join(
        [
            f"### The SDK's own cost, no network ({LOCAL_CALLS} calls each)",
            "",
            *_rows(results, [("SDK cp.actions.check (mock transport)", "bare POST + json() (mock transport)")]),
            "",
            f"The SDK adds about {sdk['p50'] - base['p50']:.0f} µs per check at p50 (models, retry loop, checks).",
        ]
    )


def run() -> str:
    http_section, _ = over_http()
    return "\n\n".join(["## Engine SDK", __doc__.split("\n\n", 1)[1].strip(), http_section, without_network()])


if __name__ == "__main__":
    print(run())
