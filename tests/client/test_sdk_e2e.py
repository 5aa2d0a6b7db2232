"""End to end: the SDK against the local runner over real HTTP, as an engine and an operator use it."""

from __future__ import annotations

import itertools

import pytest

import puraify_client as pc
from tests.client.mockplane import E2E_ADMIN_KEY

_ids = itertools.count(1)


@pytest.fixture
async def admin(plane):
    async with pc.ControlPlane(plane.base_url, "admin", E2E_ADMIN_KEY) as cp:
        yield cp


@pytest.fixture
async def engine(plane, admin):
    """A freshly registered engine allowed to send gmail and logs (not read them), and its own client."""
    engine_id = f"mailer-{next(_ids)}"
    created = await admin.engines.register(
        engine_id, permissions={"gmail": ["send_email"]}, scopes=["logs:write"], projects=["*"], description="e2e"
    )
    async with pc.ControlPlane(plane.base_url, engine_id, created.engine_key.get_secret_value()) as cp:
        yield cp


async def test_registered_engine_validates_and_is_allowed_its_action(engine):
    me = await engine.engines.validate()
    assert me.valid and me.engine_id == engine.engine_id and me.permissions == {"gmail": ["send_email"]}
    decision = await engine.actions.check("gmail", "send_email", project_id="pf_123", flow_id="lead_submit")
    assert decision.allowed and decision.engine_id == engine.engine_id and decision.request_id


async def test_require_raises_server_reason_for_unpermitted_action(engine):
    with pytest.raises(pc.ActionDenied) as caught:
        await engine.actions.require("gmail", "read_email")
    assert caught.value.reason and "read_email" in caught.value.reason
    assert caught.value.request_id


async def test_guard_blocks_the_coroutine_when_denied(engine):
    ran = []

    @engine.actions.guard("slack", "send_message")
    async def post() -> None:
        ran.append(True)

    with pytest.raises(pc.PermissionDenied):
        await post()
    assert ran == []


async def test_maintenance_denies_then_available_allows(admin, engine):
    maintained = await admin.platforms.set_status("gmail", "maintenance")
    assert maintained.status == "maintenance" and "send_email" in maintained.actions
    try:
        decision = await engine.actions.check("gmail", "send_email")
        assert not decision.allowed and "maintenance" in (decision.reason or "")
    finally:
        await admin.platforms.set_status("gmail", "available")
    assert (await engine.actions.check("gmail", "send_email")).allowed


async def test_platform_list_has_seeded_catalog(engine):
    names = [p.name for p in await engine.platforms.list()]
    assert {"gmail", "slack"} <= set(names)


async def test_flag_round_trip_and_field_level_422(admin):
    flag = await admin.config.set_flag("e2e-flag", True, platform="gmail", description="sdk e2e")
    assert flag.enabled
    assert (await admin.config.flags())["e2e-flag"].platform == "gmail"
    with pytest.raises(pc.ValidationError) as caught:
        await admin.config.set_flag("bad-flag", True, action_type="send_email")
    assert caught.value.details and caught.value.details[0]["field"] == "body.platform"


async def test_engine_event_is_accepted_and_retry_safe(engine):
    first = await engine.monitoring.engine_event("started", status="ok", event_id="evt-e2e-1")
    again = await engine.monitoring.engine_event("started", status="ok", event_id="evt-e2e-1")
    assert first.event_id == again.event_id == "evt-e2e-1"


async def test_oversized_body_is_413(engine):
    with pytest.raises(pc.PayloadTooLargeError):
        await engine.actions.check("gmail", "send_email", flow_id="x" * 300_000)


async def test_admin_errors_are_typed(admin, engine):
    with pytest.raises(pc.ConflictError):
        await admin.engines.register(engine.engine_id)
    with pytest.raises(pc.NotFoundError) as missing:
        await admin.engines.rotate("no-such-engine")
    assert missing.value.error_code == "engine_not_found"
    with pytest.raises(pc.PermissionDenied):
        await engine.engines.register("sneaky-engine")


async def test_rotate_then_revoke_cuts_the_engine_off(plane, admin, engine):
    rotated = await admin.engines.rotate(engine.engine_id, grace_seconds=0)
    with pytest.raises(pc.AuthenticationError):
        await engine.engines.validate()
    async with pc.ControlPlane(plane.base_url, engine.engine_id, rotated.engine_key.get_secret_value()) as fresh:
        assert (await fresh.engines.validate()).valid
        await admin.engines.revoke(engine.engine_id)
        with pytest.raises(pc.AuthenticationError) as caught:
            await fresh.actions.check("gmail", "send_email")
    assert caught.value.request_id


def test_sync_facade_registers_and_checks_like_the_async_client(plane):
    with pc.SyncControlPlane(plane.base_url, "admin", E2E_ADMIN_KEY) as admin:
        created = admin.engines.register("sync-engine", permissions={"slack": ["send_message"]})
        with pytest.raises(pc.NotFoundError):
            admin.engines.revoke("no-such-engine")
    with pc.SyncControlPlane(plane.base_url, "sync-engine", created.engine_key.get_secret_value()) as cp:
        assert cp.actions.check("slack", "send_message").allowed
        with pytest.raises(pc.ActionDenied):
            cp.actions.require("slack", "upload_file")


# --- Monitoring, through the SDK, as engines report and operators read ------------------------------


async def test_logged_events_are_queried_page_by_page_and_errors_grouped(admin, engine):
    project = f"pf-sdk-{next(_ids)}"
    events = [
        {"project_id": project, "event_type": "execution", "engine": "execution", "platform": "slack",
         "action": "send_message", "status": "success", "duration_ms": 100 + i, "event_id": f"{project}-ok-{i}"}
        for i in range(4)
    ] + [
        {"project_id": project, "event_type": "execution", "engine": "execution", "platform": "slack",
         "action": "send_message", "status": "error", "error_type": "api_timeout",
         "message": f"timeout after {900 + i} ms", "event_id": f"{project}-err-{i}"}
        for i in range(2)
    ]  # fmt: skip
    accepted = await engine.monitoring.log_batch(events)
    assert accepted.accepted == 6 and accepted.rejected == []
    # a retried event (same event_id) is stored once
    await engine.monitoring.log(events[0])

    seen = [log.event_id async for log in admin.monitoring.iter_logs(project, page_size=4)]
    assert sorted(seen) == sorted(e["event_id"] for e in events)

    grouped = await admin.monitoring.errors(project)
    assert [(g.count, g.error_type) for g in grouped.errors] == [(2, "api_timeout")]
    stats = await admin.monitoring.stats(project)
    row = next(r for r in stats.stats if r.platform == "slack")
    assert row.count == 6 and row.errors == 2

    overview = await admin.monitoring.overview(project, top=1)
    assert overview.project is not None and overview.project.totals.errors == 2
    assert [(g.error_type, sum(g.trend)) for g in overview.project.error_groups] == [("api_timeout", 2)]
    assert len(overview.checks.t) == len(overview.checks.allowed) >= 60  # one point a minute, the last hour
    assert (await admin.monitoring.overview()).project is None


async def test_reading_logs_needs_the_logs_read_scope(engine):
    with pytest.raises(pc.PermissionDenied):
        await engine.monitoring.logs("pf-anything")


async def test_alert_is_stored_and_reported(admin):
    alert = await admin.monitoring.alert(f"pf-alert-{next(_ids)}", "token expired", severity="high")
    assert alert.alert_id and isinstance(alert.notified, bool)


# --- Planning: publish the shipped bundle, decide, read the audit ------------------------------------


async def test_publish_bundle_then_decide_and_read_the_audit(admin):
    from pathlib import Path

    from puraify_client.services.plan import bundle_paths, read_bundle

    folder = Path(__file__).resolve().parents[2] / "policies" / "gate"
    texts = {p.name: p.read_text() for p in bundle_paths(folder)}
    published = await admin.plan.publish(read_bundle(folder, texts, "sdk-e2e-1"))
    assert published.revision == "sdk-e2e-1" and len(published.sha256) == 64
    again = await admin.plan.publish(read_bundle(folder, texts, "sdk-e2e-1"))
    assert again.created is False

    assert (await admin.plan.policy()).revision == "sdk-e2e-1"
    decision = await admin.plan.decide("deployment-sdk-1", "production", "pf-sdk-plan")
    assert decision.policy.revision == "sdk-e2e-1"
    assert decision.allow or decision.deny_reasons
    audit = await admin.plan.decisions(deployment_id="deployment-sdk-1")
    assert audit.decisions[0].decision_id == decision.decision_id


async def test_bundle_that_does_not_compile_is_refused_with_422(admin):
    from puraify_client.services.plan import Bundle

    with pytest.raises(pc.ValidationError) as caught:
        await admin.plan.publish(
            Bundle(
                files={"gate.rego": "package gate\nthis is not rego"}, revision="broken-1", entrypoint="gate/decision"
            )
        )
    assert caught.value.error_code == "bundle_rejected"


# --- Environment Manager: publish, create, promote, compare, history, rollback, config ---------------


async def test_environment_lifecycle_through_the_sdk(admin):
    project = f"pf-sdk-env-{next(_ids)}"
    v1 = await admin.env.publish_version(project, {"entities": ["Lead"], "flows": {"submit": {"steps": 1}}})
    assert v1.version == "v1.0.0"
    staging = await admin.env.create(
        project, "staging", base_from="development", env_variables={"API_KEY": "stg-secret", "BASE_URL": "https://s"}
    )
    assert staging.linked_version == "v1.0.0" and staging.variables["API_KEY"].value != "stg-secret"
    assert staging.variables["API_KEY"].secret and staging.variables["BASE_URL"].value == "https://s"

    v2 = await admin.env.publish_version(
        project, {"entities": ["Lead", "Notification"], "flows": {"submit": {"steps": 2}}}
    )
    assert v2.version == "v1.1.0"
    promoted = await admin.env.promote(project, "development", "staging")
    assert (promoted.status, promoted.version) == ("ready_for_deploy", "v1.1.0")
    assert promoted.diff_from_previous.entities_added == ["Notification"]
    again = await admin.env.promote(project, "development", "staging")
    assert again.status == "already_deployed"

    compared = await admin.env.compare(project, "development", "staging")
    assert compared.version.versions_apart == 0

    changed = await admin.env.set_config(project, "staging", env_variables={"BASE_URL": "https://s2"})
    assert changed.environment.variables["BASE_URL"].value == "https://s2"
    with pytest.raises(pc.ConflictError):
        await admin.env.set_config(project, "staging", feature_flags={"BETA": True}, expected_revision=1)

    rolled = await admin.env.rollback(project, "staging", "v1.0.0")
    assert rolled.environment.version == "v1.0.0" and rolled.environment.variables["BASE_URL"].value == "https://s"

    history = [entry.action async for entry in admin.env.iter_history(project, "staging", page_size=2)]
    assert history == ["rollback", "config", "promote", "create"]
    listed = await admin.env.list(project)
    assert {e.env for e in listed.environments} == {"development", "staging"}


async def test_environment_errors_are_typed(admin, engine):
    with pytest.raises(pc.NotFoundError):
        await admin.env.list("pf-no-such-project")
    with pytest.raises(pc.PermissionDenied):
        await engine.env.list("pf-anything")


async def test_a_422s_text_names_each_field_and_its_message(admin):
    with pytest.raises(pc.ValidationError) as caught:
        await admin.engines.register("typo-engine", permissions={"gmial": ["send_email"]}, projects=["*"])
    text = str(caught.value)
    assert "body.permissions.gmial" in text and caught.value.details[0]["message"] in text
    assert caught.value.request_id and caught.value.request_id in text


async def test_past_its_limit_an_engine_gets_rate_limited_with_retry_after_and_the_client_waits_it(plane, admin):
    engine_id = f"limited-{next(_ids)}"
    created = await admin.engines.register(
        engine_id, permissions={"gmail": ["send_email"]}, rate_limit=pc.RateLimit(per_second=1, burst=1)
    )
    key = created.engine_key.get_secret_value()
    async with pc.ControlPlane(plane.base_url, engine_id, key, retry=pc.RetryPolicy(retries=0)) as cp:
        assert (await cp.actions.check("gmail", "send_email")).allowed
        with pytest.raises(pc.RateLimited) as caught:
            await cp.actions.check("gmail", "send_email")
    assert isinstance(caught.value, pc.PuraifyClientError)
    assert caught.value.error_code == "rate_limited" and caught.value.retry_after == 1
    async with pc.ControlPlane(plane.base_url, engine_id, key) as patient:  # waits Retry-After, then succeeds
        assert (await patient.actions.check("gmail", "send_email")).allowed


async def test_an_admin_suspends_and_reinstates_an_engine(admin, engine):
    suspended = await admin.engines.suspend(engine.engine_id, "investigating a leak")
    assert suspended.suspended is not None and suspended.suspended.reason == "investigating a leak"
    with pytest.raises(pc.PermissionDenied) as caught:
        await engine.engines.validate()
    assert caught.value.error_code == "engine_suspended"
    assert (await admin.engines.get(engine.engine_id)).suspended is not None
    assert (await admin.engines.reinstate(engine.engine_id, "rotated")).suspended is None
    assert (await engine.engines.validate()).valid
    with pytest.raises(pc.ConflictError) as last:
        await admin.engines.suspend("admin", "no")
    assert last.value.error_code == "last_admin"


async def test_engine_level_alerts_are_listed_without_a_project_for_engines_granted_every_project(plane, admin):
    from datetime import UTC, datetime, timedelta

    from puraify import wiring

    await admin.engines.register("sdk-expiring", expires_at=datetime.now(UTC) + timedelta(days=2))
    wiring.current().planning.watch_keys()  # the schedule's key_expiring pass (this plane fires no schedule)
    page = await admin.monitoring.alerts(status="unresolved")
    (alert,) = [a for a in page.alerts if a.engine_id == "sdk-expiring"]
    assert alert.project_id is None and alert.event_type == "key_expiring" and alert.severity == "medium"
    # An engine granted one project is refused the engine-level list (and told to name a project)
    one = await admin.engines.register("sdk-one-project", scopes=["logs:read"], projects=["shop"])
    async with pc.ControlPlane(plane.base_url, "sdk-one-project", one.engine_key.get_secret_value()) as cp:
        with pytest.raises(pc.PermissionDenied) as refused:
            await cp.monitoring.alerts()
        assert refused.value.error_code == "project_not_granted" and "project_id" in str(refused.value)
        assert (await cp.monitoring.alerts("shop")).alerts == []
