"""Fixtures of the SDK tests: clients on an ``httpx.MockTransport`` with recorded requests and waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from puraify_client import ControlPlane, RetryPolicy
from tests.client.mockplane import ENGINE_KEY, Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def mocked(recorder: Recorder) -> AsyncIterator[Callable[..., ControlPlane]]:
    """``mocked(handler)``: a client whose requests go to ``handler(request) -> httpx.Response``."""
    clients: list[ControlPlane] = []

    def build(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> ControlPlane:
        def record(request: httpx.Request) -> httpx.Response:
            recorder.requests.append(request)
            return handler(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(record), base_url="http://plane.test")
        options.setdefault("retry", RetryPolicy(sleep=recorder.sleep))
        cp = ControlPlane("http://plane.test", "engine-1", ENGINE_KEY, http=http, **options)
        clients.append(cp)
        return cp

    yield build
    for cp in clients:
        await cp.aclose()
