"""Fixtures of the SDK tests: clients on an ``httpx.MockTransport`` with recorded requests and waits, and the
local runner serving a Unix domain socket."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.runner import LocalControlPlane
from puraify_client import ControlPlane, RetryPolicy
from tests.client.mockplane import E2E_ADMIN_KEY, ENGINE_KEY, Recorder


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


@contextmanager
def plane_on_socket(moto_endpoint: str, name: str) -> Iterator[LocalControlPlane]:
    """The local runner serving both 127.0.0.1 and a Unix domain socket (``PURAIFY_SOCKET``), on tables of its
    own (``name`` and the process id); the socket is gone after it stops."""
    saved = dict(os.environ)
    folder = tempfile.mkdtemp(prefix=f"pf-{name}-")
    local = LocalControlPlane(
        port=0,
        endpoint_url=moto_endpoint,
        admin_key=E2E_ADMIN_KEY,
        prefix=f"{name}{os.getpid()}-",
        schedules=False,
        socket_path=f"{folder}/puraify.sock",
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
    assert not Path(f"{folder}/puraify.sock").exists()
    os.rmdir(folder)
