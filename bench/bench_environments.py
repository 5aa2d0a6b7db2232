"""Environment Manager: AWS calls and latency per promotion, with a history of 10 versus 1,000 versions.

Two projects on the same tables: one with 10 published versions, one with 1,000. Each timed call is
``POST /env/promote`` (staging -> production) through the real handler (auth, validation, domain,
DynamoDB, audit) against a moto server on 127.0.0.1; between timed calls an untimed rollback puts
production back, so every timed call is a real promotion. The two projects alternate in rounds so
machine noise hits both alike. AWS calls are counted with botocore's ``before-call`` event.

The production gate is switched off (``PURAIFY_PRODUCTION_GATE=off``): its cost belongs to the
Planning Engine and does not depend on this service's history.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from pathlib import Path

from bench.harness import moto_endpoint, use_template
from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "pfk_bench-env-admin-key-0123456789abcdefghijklmnop"
SIZES = (10, 1000)
SAMPLES = 200
ROUNDS = 10


def _state(i: int) -> dict:
    return {
        "entities": [f"Entity{n}" for n in range(20)] + ([f"Extra{i}"] if i % 3 == 0 else []),
        "flows": {f"flow{n}": {"steps": ["a", "b", "c"], "rev": i if n == i % 10 else 0} for n in range(10)},
        "feature_flags": ["BETA_FORM"],
    }


def _event(name: str, body: dict) -> dict:
    event = json.loads((ROOT / "events" / "env" / f"{name}.json").read_text())
    event["headers"].update({"x-engine-id": "admin", "x-engine-key": ADMIN_KEY})
    event["body"] = json.dumps(body)
    return event


def _project(rt, dynamo, admin, project: str, versions: int) -> tuple[str, str]:
    """development with ``versions`` versions; production one version behind staging.

    Built with the domain logic over in-memory stores (fast), then copied item by item into the
    DynamoDB tables, so the tables hold exactly what publishing through the API would leave there.
    """
    from puraify.environments import models as m
    from puraify.environments.gate import GateDecision
    from puraify.environments.service import Environments
    from tests.fakes.environments import MemoryDeploymentStore, MemoryEnvironmentStore, MemorySecretStore

    memory = MemoryEnvironmentStore()
    service = Environments(
        memory,
        MemorySecretStore(),
        rt.audit,
        gate=lambda **_: GateDecision(allow=True),
        url_base="https://x",
        deployments=MemoryDeploymentStore(),
    )

    def publish(i: int) -> str:
        body = m.VersionPublishRequest(project_id=project, environment="development", state=_state(i))
        return service.publish(admin, body, "bench").version

    for i in range(versions - 1):
        previous = publish(i)
    service.create(
        admin, m.EnvCreateRequest(project_id=project, new_environment="staging", base_from="development"), "b"
    )
    plain = {"BASE_URL": "https://example.com", "REGION": "eu-west-1"}
    service.create(admin, m.EnvCreateRequest(project_id=project, new_environment="qa", env_variables=plain), "b")
    request = m.EnvCreateRequest(project_id=project, new_environment="production", env_variables=plain)
    service.create(admin, request, "b")
    service.update_config(admin, project, "production", m.EnvConfigRequest(env_variables={"REGION": "us-east-1"}), "b")
    service.promote(admin, m.EnvPromoteRequest(project_id=project, source_env="staging", target_env="production"), "b")
    latest = publish(versions)
    service.promote(admin, m.EnvPromoteRequest(project_id=project, source_env="development", target_env="staging"), "b")
    for record in memory.version_records.values():
        dynamo.put_version(record)
    for project_record in memory.projects.values():
        dynamo.put_project(project_record, None)
    for head in memory.heads.values():
        dynamo.put_environment(head, None)
    dynamo.put_history(list(memory.entries.values()))
    return previous, latest


def run() -> str:
    from local.gateway import LambdaContext, load_handler

    with moto_endpoint() as endpoint:
        template = use_template(
            endpoint,
            "bench-env-",
            PURAIFY_PRODUCTION_GATE="off",
            POWERTOOLS_LOG_LEVEL="ERROR",
            POWERTOOLS_METRICS_DISABLED="true",
        )

        from puraify import wiring
        from puraify.auth import Principal
        from puraify.engine_control.bootstrap import ensure_admin
        from puraify.store import clients

        rt = wiring.current()
        ensure_admin(rt.engines, ADMIN_KEY)
        service = rt.environments
        admin = Principal("admin", frozenset({"admin"}), projects=frozenset({"*"}))
        started = time.perf_counter()
        projects = {n: (f"bench-{n}", *_project(rt, service.store, admin, f"bench-{n}", n)) for n in SIZES}
        setup_s = time.perf_counter() - started

        handler = load_handler(template.functions()["EnvFunction"])
        calls: Counter[str] = Counter()
        counting = [False]

        def count(model, **_):
            if counting[0]:
                calls[f"{model.service_model.service_name}:{model.name}"] += 1

        for name in ("dynamodb", "secretsmanager"):
            clients.client(name).meta.events.register("before-call", count)

        def promote(project: str) -> dict:
            body = {"project_id": project, "source_env": "staging", "target_env": "production"}
            return handler(_event("promote", body), LambdaContext("EnvFunction", "bench"))

        def rollback(project: str, version: str) -> None:
            body = {"project_id": project, "environment": "production", "version": version}
            reply = handler(_event("rollback", body), LambdaContext("EnvFunction", "bench"))
            assert reply["statusCode"] == 200, reply

        per_call: dict[int, Counter[str]] = {}
        for n, (project, previous, _latest) in projects.items():
            rollback(project, previous)
            calls.clear()
            counting[0] = True
            reply = promote(project)
            counting[0] = False
            assert reply["statusCode"] == 200 and json.loads(reply["body"])["status"] == "ready_for_deploy", reply
            per_call[n] = copy.copy(calls)

        times: dict[int, list[float]] = {n: [] for n in SIZES}
        for _ in range(ROUNDS):
            for n, (project, previous, _latest) in projects.items():
                for _ in range(SAMPLES // ROUNDS):
                    rollback(project, previous)
                    began = time.perf_counter()
                    reply = promote(project)
                    times[n].append(time.perf_counter() - began)
                    assert reply["statusCode"] == 200
        history = {
            n: service.history(admin, p, "production", limit=1).entries[0].revision for n, (p, *_) in projects.items()
        }
        polls = _poll_costs(handler, calls, counting, projects[SIZES[0]][0])

    small, large = SIZES
    p50 = {n: percentile(times[n], 0.5) * 1e3 for n in SIZES}
    p99 = {n: percentile(times[n], 0.99) * 1e3 for n in SIZES}
    ops = sorted(set(per_call[small]) | set(per_call[large]))
    lines = [
        "## Environment Manager: promotion cost against history size",
        "",
        f"`POST /env/promote` (staging -> production) through the real handler against a moto server; projects with "
        f"{small} and {large} published versions on the same tables, {SAMPLES} timed promotions each, interleaved in "
        f"{ROUNDS} rounds (an untimed rollback before each). Setup ({small + large} versions published, "
        f"copied into the tables) took {setup_s:.1f} s; production's history ended at revision "
        f"{history[small]} and {history[large]}.",
        "",
        "### AWS calls per promotion",
        "",
        f"| call | {small} versions | {large} versions |",
        "|---|---:|---:|",
        *[f"| {op} | {per_call[small][op]} | {per_call[large][op]} |" for op in ops],
        f"| **total** | **{sum(per_call[small].values())}** | **{sum(per_call[large].values())}** |",
        "",
        "### Latency per promotion (ms)",
        "",
        "| versions | p50 | p99 |",
        "|---:|---:|---:|",
        *[f"| {n} | {p50[n]:.2f} | {p99[n]:.2f} |" for n in SIZES],
        "",
        f"p50 ratio {large} / {small} versions: **{p50[large] / p50[small]:.3f}** (target <= 1.2); "
        f"calls constant: **{'yes' if per_call[small] == per_call[large] else 'NO'}**.",
        "",
        "### The engines' read path: AWS calls per poll",
        "",
        "| request | status | AWS calls |",
        "|---|---:|---|",
        *[f"| {name} | {status} | {cost} |" for name, status, cost in polls],
    ]
    return "\n".join(lines)


def _poll_costs(handler, calls: Counter[str], counting: list[bool], project: str) -> list[tuple[str, int, str]]:
    """AWS calls of ``GET .../resolved`` and ``GET .../versions/{label}``, first without then with the tag."""
    from local.gateway import LambdaContext

    version = json.loads(handler(_get("resolved", project, "production"), LambdaContext("EnvFunction", "b"))["body"])
    found = []
    for name, event in (
        ("GET /env/{p}/production/resolved", _get("resolved", project, "production")),
        ("GET /env/{p}/versions/{label}", _get("version", project, version["version"])),
    ):
        etag = None
        for _ in range(2):
            if etag:
                event["headers"]["if-none-match"] = etag
            calls.clear()
            counting[0] = True
            reply = handler(copy.deepcopy(event), LambdaContext("EnvFunction", "bench"))
            counting[0] = False
            etag = reply["headers"]["ETag"]
            cost = ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"
            found.append((name + (" + If-None-Match" if reply["statusCode"] == 304 else ""), reply["statusCode"], cost))
    return found


def _get(name: str, project: str, second: str) -> dict:
    event = json.loads((ROOT / "events" / "env" / f"{name}.json").read_text())
    event["headers"].update({"x-engine-id": "admin", "x-engine-key": ADMIN_KEY})
    key = "label" if name == "version" else "environment"
    event["pathParameters"] = {"project_id": project, key: second}
    middle = f"versions/{second}" if name == "version" else f"{second}/resolved"
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/env/{project}/{middle}"
    return event
