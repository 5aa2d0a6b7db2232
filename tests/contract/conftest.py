"""Contract tests: every port's fake (``tests/fakes``) and adapter (``puraify.store``) pass the same tests.

Each test module builds its store through the ``side`` fixture: ``fake`` or ``adapter``. The adapter
side stands on its own resources, created like the ``aws`` fixture's (through ``moto_endpoint``, so
the emulator suites rerun it on DynamoDB Local and LocalStack), but only the tables or bucket that
port uses: creating the whole template for each of these small tests would cost most of their time.

DynamoDB's TTL deletes nothing on an emulator (and only within days on AWS), so expiry is what the
reads filter: the tests store items whose ``expires_at`` has passed and expect them to be left out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.resources import create_all
from local.runner import aws_environment
from local.template import Template
from tests.conftest import Aws, _prefixes


class Only(Template):
    """The template, restricted to some of its resources."""

    def __init__(self, prefix: str, wanted: tuple[str, ...]):
        super().__init__(prefix=prefix)
        self.wanted = wanted

    def tables(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in super().tables().items() if k in self.wanted}

    def buckets(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in super().buckets().items() if k in self.wanted}

    def topics(self) -> dict[str, dict[str, Any]]:
        return {}


@pytest.fixture(params=["fake", "adapter"])
def side(request: pytest.FixtureRequest) -> str:
    """Which implementation of the port a test runs against."""
    return str(request.param)


@pytest.fixture(scope="module")
def pointed(moto_endpoint: str) -> Iterator[str]:
    """The process pointed at the emulator for one module (boto3 clients are built once per module,
    not once per test: building them is most of a small test's time); the environment restored after."""
    from puraify import wiring

    saved = dict(os.environ)
    os.environ.update(aws_environment(moto_endpoint))
    wiring.reset()
    yield moto_endpoint
    os.environ.clear()
    os.environ.update(saved)
    wiring.reset()


@pytest.fixture
def resources(pointed: str) -> Callable[..., Aws]:
    """``resources("EnginesTable", ...)``: fresh resources of the template for this test, as ``aws``
    creates them, but only those named."""

    def create(*logical_ids: str) -> Aws:
        template = Only(f"c{next(_prefixes)}-", logical_ids)
        create_all(template)
        return Aws(pointed, template)

    return create


def expired() -> int:
    """An ``expires_at`` (epoch seconds) that passed an hour before this run started."""
    return _STARTED - 3600


def later() -> int:
    """An ``expires_at`` a day after this run started (the same value all run long, so items compare equal)."""
    return _STARTED + 86_400


_STARTED = int(time.time())
