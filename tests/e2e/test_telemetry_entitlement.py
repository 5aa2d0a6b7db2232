"""End to end: telemetry from engines not entitled to report cannot steer production (issue 19, item 2).

The three attacks, replayed over HTTP against the local runner through the SDK: forged errors that
would roll production back, forged successes that would keep a failing version, and identical
errors that would raise a critical alert and freeze promotions. Each engine holds ``logs:write`` and
the project's grant; only ``report:production`` (or ``report``) entitles its events to count.
"""

from __future__ import annotations

import itertools
import uuid

import pytest

import puraify_client as pc
from tests.e2e.test_deployment_watch import admin, tick, traffic, v1_in_production  # noqa: F401 - fixtures

_engines = itertools.count(1)


async def engine(plane, cp: pc.ControlPlane, project: str, scopes: list[str]) -> tuple[str, pc.ControlPlane]:
    """A freshly registered engine granted ``project``, holding ``scopes``: its id and its client."""
    engine_id = f"reporter-{next(_engines)}-{uuid.uuid4().hex[:6]}"
    registered = await cp.engines.register(engine_id, scopes=scopes, projects=[project])
    key = registered.engine_key.get_secret_value()
    return engine_id, pc.ControlPlane(plane.base_url, engine_id, key, read_timeout=60)


async def test_forged_errors_from_an_engine_not_entitled_do_not_roll_back(plane, admin):  # noqa: F811
    # Given v2 baking in production, and an engine granted the project but not entitled to report
    project = await v1_in_production(admin)
    await admin.env.promote(project, "development", "production", bake_seconds=600)
    _, intruder = await engine(plane, admin, project, ["logs:write"])
    async with intruder:
        # When it sends 20 errors for v2 in production and the watch ticks
        sent = await intruder.monitoring.log_batch(traffic(project, "v2.0.0", 20, error=True))
        assert sent.accepted == 20
    ran = tick()
    # Then production keeps v2, still baking: the forged errors were stored but not judged
    assert ran["watch"]["rolled_back"] == []
    shown = await admin.env.deployment(project, "production")
    assert shown.state == "baking" and shown.decisions[-1].verdict == "continue"
    assert shown.decisions[-1].candidate is not None and shown.decisions[-1].candidate["events"] == 0
    assert (await admin.env.resolved(project, "production")).version == "v2.0.0"
    stored = await admin.monitoring.logs(project, version="v2.0.0", limit=100)
    assert len(stored.logs) == 20


@pytest.mark.parametrize("forger_scopes", [["logs:write"], ["logs:write", "report:production"]])
async def test_forged_successes_do_not_keep_a_failing_version(plane, admin, forger_scopes):  # noqa: F811
    # Given v2 baking in production, a real reporter entitled to production, and a forger
    project = await v1_in_production(admin)
    await admin.env.promote(project, "development", "production", bake_seconds=600)
    real_id, real = await engine(plane, admin, project, ["logs:write", "report:production"])
    _, forger = await engine(plane, admin, project, forger_scopes)
    async with real, forger:
        # When the forger sends 1,000 successes and the real reporter 40 errors (all of its traffic)
        for _ in range(2):
            await forger.monitoring.log_batch(traffic(project, "v2.0.0", 500, error=False))
        await real.monitoring.log_batch(traffic(project, "v2.0.0", 40, error=True))
    ran = tick()
    # Then the watch judges the real reporter's traffic on its own and rolls back
    assert f"{project}/production/v2.0.0" in ran["watch"]["rolled_back"]
    shown = await admin.env.deployment(project, "production")
    assert shown.state == "rolled_back" and shown.decisions[-1].verdict == "rollback"
    assert f"reported by engine {real_id}" in (shown.reason or "")
    assert (await admin.env.resolved(project, "production")).version == "v1.0.0"


async def test_identical_errors_from_an_engine_not_entitled_do_not_freeze_production(plane, admin):  # noqa: F811
    # Given v1 in production and v2 ready, and an engine granted the project but not entitled to report
    project = await v1_in_production(admin)
    _, intruder = await engine(plane, admin, project, ["logs:write"])
    async with intruder:
        # When it sends 20 identical errors for production
        events = traffic(project, "v1.0.0", 20, error=True)
        assert (await intruder.monitoring.log_batch(events)).accepted == 20
    # Then they raise an alert that pages (high), not a critical one
    alerts = (await admin.monitoring.alerts(project)).alerts
    assert [a.severity for a in alerts] == ["high"]
    # ... and the production gate neither counts them nor a critical alert: the promotion goes ahead
    promoted = await admin.env.promote(project, "development", "production", bake_seconds=0)
    assert promoted.version == "v2.0.0"
