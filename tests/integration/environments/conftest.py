"""Fixtures for the Environment Manager's integration tests (real handler, real boto3, moto endpoint)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest

from puraify.environments.gate import GateDecision


@dataclass
class FakeGate:
    """A Planning gate that answers as told and remembers what it was asked."""

    allow: bool = True
    reasons: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **request: Any) -> GateDecision:
        self.calls.append(request)
        return GateDecision(allow=self.allow, reasons=list(self.reasons), decision_id=f"dec-{len(self.calls)}")


@pytest.fixture
def env_aws(aws):
    """The template's resources plus a secret path of this test's own (secrets outlive moto tables)."""
    from puraify import runtime

    os.environ["PURAIFY_SECRETS_PREFIX"] = f"puraify/{aws.template.prefix.rstrip('-')}/env"
    runtime.reset()
    return aws


@pytest.fixture
def admin(env_aws, admin_key) -> tuple[str, str]:
    return ("admin", admin_key)


@pytest.fixture
def gate(env_aws) -> FakeGate:
    """Replaces the Planning gate of this process's Environment Manager with a fake one."""
    from puraify import environments, runtime

    fake = FakeGate()
    service = environments.service(runtime.current())
    service.gate = fake
    return fake


@pytest.fixture
def engine(env_aws, admin, invoke):
    """Registers an engine with the given scopes and returns its (id, key)."""

    def register(engine_id: str, *scopes: str) -> tuple[str, str]:
        reply = invoke("register/register", engine=admin, body={"engine_id": engine_id, "scopes": list(scopes)})
        assert reply.status == 201, reply.body
        return (engine_id, reply.body["engine_key"])

    return register
