"""Fixtures shared by every test.

- ``moto_endpoint``: one moto server for the session, on a free port of 127.0.0.1.
- ``aws``: a fresh set of the template's resources for one test (a unique name prefix), with the
  process environment pointing at them, as a Lambda's would.
- ``admin_key``: engine ``admin`` bootstrapped in those resources.
- ``invoke``: call a function's real ``lambda_handler`` with an event from ``events/``.
- ``plane``: the local runner (gateway + handlers) on a free port, for end-to-end tests over HTTP.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.gateway import LambdaContext, load_handler
from local.resources import create_all
from local.runner import LocalControlPlane, aws_environment
from local.template import ROOT, Template

EVENTS = ROOT / "events"
# Resource-name prefixes unique per test process: under pytest-xdist each worker (gw0, gw1...) has its own
# counter, and on a shared emulator (the emulator suites) two workers must never create the same names.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
_prefixes = (f"{n}w{_WORKER}" for n in itertools.count(1))

# An emulator the caller points at (a LocalStack, DynamoDB Local): the tests run against it instead
# of their own moto server. Read before the placeholder below is set.
# Kept in its own variable for pytest-xdist's workers, which inherit the placeholder set below.
os.environ.setdefault("PURAIFY_TESTS_EXTERNAL_ENDPOINT", os.environ.get("AWS_ENDPOINT_URL", ""))
EXTERNAL_ENDPOINT = os.environ["PURAIFY_TESTS_EXTERNAL_ENDPOINT"] or None
LOCALSTACK_HOST = os.environ.get("LOCALSTACK_HOST")  # set by `make test-localstack`
# The emulator suite this run is (`python -m local.suite`): "dynamodb-local", "localstack", or unset for `make test`.
EMULATOR_SUITE = os.environ.get("PURAIFY_TESTS_EMULATOR_SUITE") or None

# Tests never reach real AWS: placeholder credentials even before any fixture runs.
for _name, _value in aws_environment("http://127.0.0.1:1").items():
    os.environ.setdefault(_name, _value)
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1, or the emulator in ``AWS_ENDPOINT_URL`` if one was given."""
    if EXTERNAL_ENDPOINT:
        yield EXTERNAL_ENDPOINT
        return
    from local.runner import start_moto

    server = start_moto(port=0)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Aws:
    endpoint_url: str
    template: Template

    def name(self, logical_id: str) -> str:
        return self.template.physical_name(logical_id)

    def client(self, service: str) -> Any:
        """A client of the test's own, on the endpoints boto3 resolves from the environment (as the
        functions' clients do); on a LocalStack (``LOCALSTACK_HOST``) through ``localstack-client``."""
        if LOCALSTACK_HOST:
            from localstack_client.session import Session

            return Session(region_name="us-east-1", localstack_host=LOCALSTACK_HOST).client(service)
        import boto3

        return boto3.session.Session().client(service, region_name="us-east-1")

    def partition(self, logical_id: str, pk: str) -> list[dict[str, Any]]:
        """Every item of one partition of a template table, as DynamoDB returns them (one Query page)."""
        return self.client("dynamodb").query(
            TableName=self.name(logical_id),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )["Items"]


def use_resources(endpoint_url: str, prefix: str) -> Aws:
    """Create the template's resources under ``prefix`` and point this process at them."""
    from puraify import wiring

    template = Template(prefix=prefix)
    os.environ.update(aws_environment(endpoint_url))
    create_all(template)
    os.environ.update(template.environment())
    wiring.reset()
    return Aws(endpoint_url, template)


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[Aws]:
    saved = dict(os.environ)
    yield use_resources(moto_endpoint, f"t{next(_prefixes)}-")
    os.environ.clear()
    os.environ.update(saved)
    from puraify import wiring

    wiring.reset()


@pytest.fixture
def admin_key(aws: Aws) -> str:
    from puraify import wiring
    from puraify.engine_control.bootstrap import ensure_admin

    key, _ = ensure_admin(wiring.current().engines, "pfk_test-admin-key-0123456789abcdefghijklmnopqrstu")
    return key or "pfk_test-admin-key-0123456789abcdefghijklmnopqrstu"


def load_event(path: str) -> dict[str, Any]:
    """An event from ``events/`` (``"check/allowed"`` -> ``events/check/allowed.json``)."""
    return json.loads((EVENTS / f"{path}.json").read_text())


def event_of(method: str, path: str) -> dict[str, Any]:
    """The event in ``events/`` of a route (``"GET", "/env/{project_id}"``): there is one per route."""
    key = f"{method} {path}"
    for file in sorted(EVENTS.rglob("*.json")):
        event = json.loads(file.read_text())
        if event.get("routeKey") == key:
            return event
    raise AssertionError(f"no event in events/ for {key}: add one (it serves the tests and sam local invoke)")


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


# The API version these tests were written for, sent as Puraify-Version unless a test says otherwise
# (as the SDK, the CLI and the console send the version they were built for; docs/api.md).
WRITTEN_FOR = "2026-12-01"


class Invoker:
    """Calls the real handler of a template function with an event, as Lambda would."""

    def __init__(self) -> None:
        self.functions = Template().functions()

    def __call__(
        self,
        event: dict[str, Any] | str,
        *,
        engine: tuple[str, str] | None = None,
        body: Any = None,
        path_params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        version: str | None = WRITTEN_FOR,
    ) -> Reply:
        event = copy.deepcopy(load_event(event) if isinstance(event, str) else event)
        if version is not None:  # None: no Puraify-Version header (the engine's pin decides)
            event.setdefault("headers", {}).setdefault("puraify-version", version)
        if engine is not None:
            event.setdefault("headers", {}).update({"x-engine-id": engine[0], "x-engine-key": engine[1]})
        if body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
        if path_params:
            event["pathParameters"] = path_params
            raw = event["routeKey"].split(" ", 1)[1]
            for key, value in path_params.items():
                raw = raw.replace("{" + key + "}", value)
            event["rawPath"] = raw
            event["requestContext"]["http"]["path"] = raw
        if query is not None:
            event["queryStringParameters"] = query
            event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        method, path = event["routeKey"].split(" ", 1)
        function = next(
            fn for fn in self.functions.values() if any(r.method == method and r.path == path for r in fn.routes)
        )
        result = load_handler(function)(event, LambdaContext(function.logical_id, event["requestContext"]["requestId"]))
        raw_body = result.get("body") or ""
        headers = result.get("headers") or {}
        if not raw_body or result.get("isBase64Encoded") or "json" not in headers.get("Content-Type", "json"):
            return Reply(result["statusCode"], raw_body or None, headers)  # the console's and docs' assets
        return Reply(result["statusCode"], json.loads(raw_body), headers)


@pytest.fixture(scope="session")
def invoke() -> Callable[..., Reply]:
    return Invoker()


@pytest.fixture(scope="module")
def plane(moto_endpoint: str) -> Iterator[LocalControlPlane]:
    saved = dict(os.environ)
    local = LocalControlPlane(
        port=0,
        endpoint_url=moto_endpoint,
        admin_key="pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv",
        prefix=f"e{next(_prefixes)}-",
        schedules=False,
    )
    local.start()
    yield local
    local.stop()
    os.environ.clear()
    os.environ.update(saved)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an emulator suite (``local.suite``) or against an external emulator, run only the tests that reach AWS.

    A test reaches AWS through ``moto_endpoint`` (directly or through ``aws``, ``plane`` and the fixtures built
    on them); the rest (pure logic, fakes) ran already in ``make test``. So did the browser tests: they judge the
    console's pages, which do not change with the emulator behind the API, and the API under them runs on the
    emulator in the integration and e2e tests.
    """
    if not (EXTERNAL_ENDPOINT or EMULATOR_SUITE):
        return

    def reaches_aws(item: pytest.Item) -> bool:
        return "moto_endpoint" in getattr(item, "fixturenames", ()) and "tests/browser/" not in item.nodeid

    keep = [item for item in items if reaches_aws(item)]
    dropped = [item for item in items if not reaches_aws(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
