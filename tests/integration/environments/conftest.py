"""Fixtures for the Environment Manager's integration tests (real handler, real boto3, moto endpoint).

Creating every table of the template for each test costs about two seconds, so a module shares one
set of them (engines, audit, ...) and each test gets fresh Environment Manager tables and its own
secret path on top: tests stay isolated and the suite stays fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from local.resources import create_all
from local.template import ROOT, Template
from puraify.environments.gate import GateDecision
from tests.conftest import _prefixes as _tests  # unique per xdist worker

OWN_TABLES = ("EnvironmentsTable", "VersionsTable", "DeploymentsTable")
ADMIN_KEY = "pfk_env-admin-key-0123456789abcdefghijklmnopqrstuvw"


class OwnTables(Template):
    """The template, restricted to the Environment Manager's tables."""

    def tables(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in super().tables().items() if k in OWN_TABLES}

    def buckets(self) -> dict[str, dict[str, Any]]:
        return {}

    def topics(self) -> dict[str, dict[str, Any]]:
        return {}


@dataclass
class FakeGate:
    """A Planning gate that answers as told and remembers what it was asked."""

    allow: bool = True
    reasons: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **request: Any) -> GateDecision:
        self.calls.append(request)
        return GateDecision(allow=self.allow, reasons=list(self.reasons), decision_id=f"dec-{len(self.calls)}")


@pytest.fixture(scope="module")
def shared_aws(moto_endpoint: str) -> Iterator[Any]:
    """One set of the template's resources for this module, with engine ``admin`` bootstrapped."""
    from puraify import wiring
    from puraify.engine_control.bootstrap import ensure_admin
    from tests.conftest import use_resources

    saved = dict(os.environ)
    aws = use_resources(moto_endpoint, f"envm{next(_tests)}-")
    ensure_admin(wiring.current().engines, ADMIN_KEY)
    yield aws
    os.environ.clear()
    os.environ.update(saved)
    wiring.reset()


@pytest.fixture
def env_aws(shared_aws) -> Iterator[Any]:
    """Fresh Environment Manager tables and secret path for one test, on the module's resources.

    The service is installed into the module's runtime directly (no reset), so boto3 clients,
    which take a while to build, are reused across tests.
    """
    from puraify import wiring
    from puraify.store.changes import DynamoChangeStore
    from puraify.store.deployments import DynamoDeploymentStore
    from puraify.store.environments import DynamoEnvironmentStore
    from puraify.store.secrets import SecretsManagerStore
    from tests.conftest import Aws

    prefix = f"{shared_aws.template.prefix}{next(_tests)}-"
    own = OwnTables(prefix=prefix)
    create_all(own)
    rt = wiring.current()
    service = wiring.build_environments(rt)
    service.store = DynamoEnvironmentStore(own.physical_name("EnvironmentsTable"), own.physical_name("VersionsTable"))
    service.secrets = SecretsManagerStore(f"puraify/{prefix.rstrip('-')}/env")
    service.deployments = DynamoDeploymentStore(own.physical_name("DeploymentsTable"))
    service.changes = DynamoChangeStore(own.physical_name("EnvironmentsTable"))
    rt.environments = service
    yield Aws(shared_aws.endpoint_url, own)
    del rt.environments  # the next use builds it anew on the module's tables


@pytest.fixture
def admin(env_aws) -> tuple[str, str]:
    return ("admin", ADMIN_KEY)


@pytest.fixture
def gate(env_aws) -> FakeGate:
    """Replaces the Planning gate of this process's Environment Manager with a fake one."""
    from puraify import wiring

    fake = FakeGate()
    wiring.current().environments.gate = fake
    return fake


@pytest.fixture
def engine(env_aws, admin, invoke):
    """Registers an engine with the given scopes (its id made unique per test) and returns (id, key)."""
    suffix = env_aws.template.prefix.rstrip("-").replace("envm", "")

    def register(name: str, *scopes: str) -> tuple[str, str]:
        engine_id = f"{name}-{suffix}"
        reply = invoke(
            "register/register", engine=admin, body={"engine_id": engine_id, "scopes": list(scopes), "projects": ["*"]}
        )
        assert reply.status == 201, reply.body
        return (engine_id, reply.body["engine_key"])

    return register


@pytest.fixture
def scheduled():
    """Fires a function's schedule: its handler called with an EventBridge event from ``events/``."""
    from local.gateway import LambdaContext, load_handler

    functions = Template().functions()

    def fire(function_id: str, event: str) -> Any:
        payload = json.loads((ROOT / "events" / f"{event}.json").read_text())
        return load_handler(functions[function_id])(payload, LambdaContext(function_id, payload["id"]))

    return fire
