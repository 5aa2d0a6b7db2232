"""The SDK's request models carry the server's bounds, so a bad value fails before anything is sent.

Each SDK request model is compared with the server model of the same name: every constraint
(pattern, bounds, lengths, enums) the server's JSON schema puts on a field must be in the SDK's.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import puraify_client as pc
import puraify_client.services as sdk_services
from puraify_client.models import Request
from puraify_client.services.plan import Bundle

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "maxProperties",
    "enum",
    "const",
}


def _models(package: Any, prefix: str, base: type[BaseModel]) -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{prefix}.{module_info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, base) and value.__module__ == module.__name__:
                found.setdefault(name, value)
    return found


def _server_models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for path in sorted((ROOT / "layers/core/puraify").glob("*/models.py")):
        module = importlib.import_module(f"puraify.{path.parent.name}.models")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found.setdefault(name, value)
    return found


def _walk(node: Any, defs: dict[str, Any], out: set[tuple[str, str]], seen: tuple[str, ...] = ()) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref and ref.split("/")[-1] not in seen:
            name = ref.split("/")[-1]
            _walk(defs[name], defs, out, (*seen, name))
        for key, value in node.items():
            if key in KEYWORDS:
                out.add((key, json.dumps(value, sort_keys=True)))
            elif key not in ("$ref", "title", "description", "default"):
                _walk(value, defs, out, seen)
    elif isinstance(node, list):
        for value in node:
            _walk(value, defs, out, seen)


def _constraints(model: type[BaseModel]) -> dict[str, set[tuple[str, str]]]:
    schema = model.model_json_schema(mode="validation")
    result: dict[str, set[tuple[str, str]]] = {}
    for field, sub in schema.get("properties", {}).items():
        result[field] = set()
        _walk(sub, schema.get("$defs", {}), result[field])
    return result


SDK = {n: m for n, m in _models(sdk_services, "puraify_client.services", Request).items() if m is not Request}
SERVER = _server_models()
PAIRS = sorted(set(SDK) & set(SERVER))


def test_the_comparison_covers_the_requests_that_carry_data():
    assert {"LogEvent", "LogBatchRequest", "VersionPublishRequest", "EnvCreateRequest", "AlertRequest"} <= set(PAIRS)


@pytest.mark.parametrize("name", PAIRS)
def test_sdk_request_carries_the_servers_bounds(name):
    sdk, server = _constraints(SDK[name]), _constraints(SERVER[name])
    missing = {
        field: sorted(server[field] - sdk[field]) for field in server if field in sdk and server[field] - sdk[field]
    }
    assert not missing, f"{name}: the server bounds these fields, the SDK does not: {missing}"


def test_publish_state_takes_the_list_of_flags_the_server_requires():
    state = pc.PlatformState(
        entities=["contact"], flows={"lead": {}}, feature_flags=["beta", {"name": "dark", "enabled": False}]
    )
    assert state.model_dump(mode="json")["feature_flags"] == ["beta", {"name": "dark", "enabled": False}]
    with pytest.raises(pc.InvalidArgumentError) as caught:
        pc.PlatformState(feature_flags={"beta": True})
    assert any("feature_flags" in str(detail) for detail in caught.value.details)


async def test_bad_values_fail_before_anything_is_sent(mocked, recorder):
    cp = mocked(lambda request: pytest.fail(f"sent {request.method} {request.url}"))
    calls = [
        cp.monitoring.log(project_id="pf_123", event_type="execution", status="success", duration_ms=-5),
        cp.monitoring.log(project_id="pf 123", status="success"),
        cp.env.publish_version("shop", {"entities": [], "feature_flags": {"beta": True}}),
        cp.env.publish_version("Shop!", {"entities": []}),
        cp.env.create("shop", "production", env_variables={"1BAD": "x"}),
        cp.env.promote("shop", "staging", "production", bake_seconds=8 * 86400),
        cp.env.rollback("shop", "production", "1.2.0"),
        cp.monitoring.alert("pf_123", "token expired", severity="urgent"),
        # Engine Control, the Planning Engine's policy and engine events (the server's models, mirrored)
        cp.engines.register("mailer", scopes=["Logs Read"]),
        cp.engines.register("mailer", projects=["not a project"]),
        cp.engines.register("mailer", permissions={"Gmail": ["send"]}),
        cp.engines.rotate("mailer", grace_seconds=8 * 86400),
        cp.engines.set_api_version("mailer", "2020-01-01"),
        cp.engines.set_permissions("mailer", {"gmail": ["send email"]}),
        cp.actions.check("gmail", "x" * 65),
        cp.actions.check("gmail", "send", engine_id="Mailer!"),
        cp.actions.check_many([("gmail", "")]),
        cp.actions.simulate(platforms={"gmail": "broken"}),
        cp.actions.simulate(),
        cp.platforms.put("gmail", api_version="v" * 33),
        cp.platforms.patch("gmail", actions={"Send Email": []}),
        cp.platforms.add_window("gmail", "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", ""),
        cp.config.set_flag("beta", True, platform="Gmail"),
        cp.config.set_flag("beta", True, description="x" * 1025),
        cp.plan.publish(Bundle(files={"gate.txt": "package gate"}, revision="r1", entrypoint="gate/decision")),
        cp.plan.publish(Bundle(files={"gate.rego": "package gate"}, revision="r 1", entrypoint="gate/decision")),
        cp.monitoring.engine_event("x" * 65),
    ]
    for call in calls:
        with pytest.raises(pc.InvalidArgumentError):
            await call
    assert recorder.requests == []
