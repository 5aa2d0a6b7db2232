"""End to end: a promotion bakes, the watch judges it on its schedule tick, and a bad version rolls back.

Over HTTP against the local runner, through the SDK, as an operator and an engine would. The watch's
schedule tick is driven directly (the runner's timer is off in tests); the healthy bake waits its
20 seconds in real time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from typing import Any

import pytest

import puraify_client as pc
from local.gateway import LambdaContext, load_handler
from local.template import ROOT, Template
from tests.client.mockplane import E2E_ADMIN_KEY

V1 = {"entities": ["Lead"], "flows": {"submit": {"steps": ["validate", "store"]}}}
V2 = {"entities": ["Lead", "Score"], "flows": {"submit": {"steps": ["validate", "score", "store"]}}}
_projects = itertools.count(1)


@pytest.fixture
async def admin(plane):
    # a promotion runs the Planning gate in-process: give a loaded CI machine room
    async with pc.ControlPlane(plane.base_url, "admin", E2E_ADMIN_KEY, read_timeout=60) as cp:
        yield cp


def tick() -> dict[str, Any]:
    """One run of the Environment Manager's schedule (what EventBridge, or the runner, fires)."""
    event = json.loads((ROOT / "events" / "env" / "sweep.json").read_text())
    handler = load_handler(Template().functions()["EnvFunction"])
    return handler(event, LambdaContext("EnvFunction", uuid.uuid4().hex))


def traffic(project: str, version: str, n: int, *, error: bool) -> list[dict[str, Any]]:
    return [
        {
            "project_id": project,
            "environment": "production",
            "version": version,
            "engine": "execution",
            "platform": "notion",
            "action": "create_page",
            "status": "error" if error else "ok",
            "error_type": "api_timeout" if error else None,
            "message": "Notion API timed out after 3000 ms" if error else None,
            "duration_ms": 3000 if error else 120,
        }
        for _ in range(n)
    ]


async def v1_in_production(cp: pc.ControlPlane) -> str:
    """A project with v1.0.0 in production, serving healthy traffic, and v2.0.0 published."""
    project = f"pf-watch-{next(_projects)}-{uuid.uuid4().hex[:6]}"
    await cp.env.publish_version(project, V1, label="v1.0.0")
    await cp.env.create(project, "production")
    first = await cp.env.promote(project, "development", "production", bake_seconds=0)
    assert first.version == "v1.0.0" and first.bake is None
    await cp.monitoring.log_batch(traffic(project, "v1.0.0", 40, error=False))
    await cp.env.publish_version(project, V2, label="v2.0.0")
    return project


async def test_errors_on_the_new_version_roll_production_back_with_alert_and_audit(admin):
    # Given v2 promoted into production with a 20-second bake
    project = await v1_in_production(admin)
    promoted = await admin.env.promote(project, "development", "production", bake_seconds=20)
    assert promoted.version == "v2.0.0" and promoted.bake is not None and promoted.bake.bake_seconds == 20
    assert (await admin.env.deployment(project, "production")).state == "baking"
    # When errors tagged v2 arrive above the threshold and the schedule ticks
    sent = await admin.monitoring.log_batch(traffic(project, "v2.0.0", 30, error=True))
    assert sent.accepted == 30
    ran = tick()
    # Then production runs v1 again, rolled back by the watch
    assert f"{project}/production/v2.0.0" in ran["watch"]["rolled_back"]
    resolved = await admin.env.resolved(project, "production")
    assert resolved is not None and resolved.version == "v1.0.0" and resolved.state is not None
    assert resolved.state["entities"] == V1["entities"]
    shown = await admin.env.deployment(project, "production")
    assert (shown.deployment_id, shown.state, shown.version) == (promoted.deployment_id, "rolled_back", "v2.0.0")
    assert shown.decisions[-1].verdict == "rollback" and shown.rollback_deployment_id
    markers = (await admin.monitoring.deployments(project, environment="production")).deployments
    assert (markers[0].action, markers[0].actor, markers[0].version) == ("rollback", "deployment-watch", "v1.0.0")
    baked = next(d for d in markers if d.deployment_id == promoted.deployment_id)
    assert baked.state == "rolled_back" and "error rate of v2.0.0 is 100%" in (baked.reason or "")
    assert [d.action for d in markers] == ["rollback", "promote", "promote"]
    # ... with a critical alert naming the version and the reasons, and the audit entries
    timeline = (await admin.monitoring.audit(project)).timeline
    alerts = [e for e in timeline if e["kind"] == "alert" and e.get("event_type") == "deployment_rolled_back"]
    assert len(alerts) == 1 and alerts[0]["severity"] == "critical"
    assert "v2.0.0" in alerts[0]["message"] and "error rate of v2.0.0 is 100%" in alerts[0]["message"]
    rollbacks = [e for e in timeline if e["kind"] == "decision" and e.get("action_type") == "rollback"]
    assert rollbacks and rollbacks[-1]["engine_id"] == "deployment-watch"
    kinds = [e["kind"] for e in timeline]
    assert "deployment" in kinds and "deployment_rolled_back" in kinds
    history = await admin.env.history(project, "production")
    assert [(e.action, e.version, e.created_by) for e in history.entries[:2]] == [
        ("rollback", "v1.0.0", "deployment-watch"),
        ("promote", "v2.0.0", "admin"),
    ]
    # The errors are tied to the version that produced them
    errors = (await admin.monitoring.errors(project)).errors
    assert errors[0].model_extra["first_seen_version"] == "v2.0.0"
    stats = await admin.monitoring.version_stats(project, "v2.0.0", environment="production")
    assert (stats.total.events, stats.total.errors, stats.total.error_rate) == (30, 30, 1.0)
    assert stats.total.latency_p95_ms is not None and stats.total.latency_p95_ms > 2000


async def test_healthy_traffic_through_the_bake_ends_healthy(admin):
    # Given v2 promoted with a 20-second bake, serving healthy traffic
    project = await v1_in_production(admin)
    promoted = await admin.env.promote(project, "development", "production", bake_seconds=20)
    await admin.monitoring.log_batch(traffic(project, "v2.0.0", 30, error=False))
    # While baking the watch keeps the version and keeps watching
    tick()
    during = await admin.env.deployment(project, "production")
    assert during.state == "baking" and [d.verdict for d in during.decisions] == ["continue"]
    # When the bake time has passed (in real time) and the schedule ticks
    assert promoted.bake is not None
    ends = time.mktime(time.strptime(promoted.bake.bake_ends_at[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    await asyncio.sleep(max(0.0, ends - time.time()) + 1.0)
    tick()
    # Then the deployment is healthy and production keeps v2
    after = await admin.env.deployment(project, "production")
    assert after.state == "healthy" and after.decisions[-1].verdict == "healthy"
    assert after.decisions[-1].candidate is not None and after.decisions[-1].candidate["events"] == 30
    resolved = await admin.env.resolved(project, "production")
    assert resolved is not None and resolved.version == "v2.0.0"


async def test_no_traffic_is_no_signal_not_healthy(admin):
    project = await v1_in_production(admin)
    await admin.env.promote(project, "development", "production", bake_seconds=1)
    await asyncio.sleep(1.5)
    tick()
    after = await admin.env.deployment(project, "production")
    assert after.state == "no_signal" and "no signal: v2.0.0 served 0 event(s)" in (after.reason or "")
    resolved = await admin.env.resolved(project, "production")
    assert resolved is not None and resolved.version == "v2.0.0"


async def test_a_manual_rollback_during_the_bake_cancels_the_watch(admin):
    project = await v1_in_production(admin)
    promoted = await admin.env.promote(project, "development", "production", bake_seconds=20)
    await admin.env.rollback(project, "production", "v1.0.0")
    markers = (await admin.monitoring.deployments(project, environment="production")).deployments
    baked = next(d for d in markers if d.deployment_id == promoted.deployment_id)
    assert baked.state == "cancelled" and "changed during the bake (rollback by admin" in (baked.reason or "")
    await admin.monitoring.log_batch(traffic(project, "v2.0.0", 30, error=True))
    assert tick()["watch"]["judged"] == 0


async def test_resolved_poll_with_etag_is_not_modified(admin):
    project = await v1_in_production(admin)
    first = await admin.env.resolved(project, "production")
    assert first is not None and first.etag
    assert await admin.env.resolved(project, "production", if_none_match=first.etag) is None
    version = await admin.env.version(project, "v2.0.0")
    assert version is not None and version.state["flows"] == V2["flows"]
    assert await admin.env.version(project, "v2.0.0", if_none_match=version.etag) is None
