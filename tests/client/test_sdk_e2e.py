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
    """A freshly registered engine allowed to send (not read) gmail, and its own client."""
    engine_id = f"mailer-{next(_ids)}"
    created = await admin.engines.register(engine_id, permissions={"gmail": ["send_email"]}, description="e2e")
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
        await engine.monitoring.engine_event("dump", details={"blob": "x" * 300_000})


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
