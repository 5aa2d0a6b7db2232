"""The check's rules as a pure function."""

from __future__ import annotations

import pytest

from puraify.engine_control.decisions import decide
from puraify.engine_control.records import Catalog, EngineRecord, Flag, Platform


def engine(**permissions: list[str]) -> EngineRecord:
    return EngineRecord(engine_id="action", key_hash="x", permissions=permissions, created_at="t", updated_at="t")


def catalog(status: str = "available", *flags: Flag) -> Catalog:
    gmail = Platform(
        name="gmail",
        status=status,
        actions={"send_email": {"required_scopes": ["mail.send"]}, "read_email": {"required_scopes": ["mail.read"]}},
    )
    return Catalog(platforms={"gmail": gmail}, flags={f.name: f for f in flags})


def test_granted_action_on_available_platform_is_allowed_with_scopes():
    decision = decide(engine(gmail=["send_email"]), catalog(), "gmail", "send_email")
    assert decision.allowed and decision.required_scopes == ("mail.send",) and decision.reason is None


def test_nothing_is_allowed_implicitly():
    assert decide(engine(), catalog(), "gmail", "send_email").rule == "not_granted"
    assert decide(engine(slack=["send_email"]), catalog(), "gmail", "send_email").rule == "not_granted"


@pytest.mark.parametrize("status", ["maintenance", "disabled"])
def test_unavailable_platform_denies_granted_action(status):
    decision = decide(engine(gmail=["send_email"]), catalog(status), "gmail", "send_email")
    assert not decision.allowed
    assert decision.rule == f"platform_{status}"
    assert decision.reason == f"platform 'gmail' is in {status}"


def test_permission_is_checked_before_platform_state():
    # an engine learns nothing about the state of platforms it may not use
    decision = decide(engine(), catalog("maintenance"), "gmail", "send_email")
    assert decision.rule == "not_granted"


def test_unknown_platform_and_action_are_denied():
    assert decide(engine(gmail=["x"]), catalog(), "fax", "send").rule == "unknown_platform"
    assert decide(engine(gmail=["x"]), catalog(), "gmail", "x").rule == "unknown_action"


def test_disabled_flag_on_action_denies_only_that_action():
    flag = Flag(name="no_send", enabled=False, platform="gmail", action_type="send_email")
    granted = engine(gmail=["send_email", "read_email"])
    assert decide(granted, catalog("available", flag), "gmail", "send_email").reason == "disabled by flag 'no_send'"
    assert decide(granted, catalog("available", flag), "gmail", "read_email").allowed


def test_disabled_flag_on_platform_denies_every_action_and_enabled_flag_denies_none():
    off = Flag(name="gmail_off", enabled=False, platform="gmail")
    on = Flag(name="gmail_on", enabled=True, platform="gmail", action_type="send_email")
    granted = engine(gmail=["send_email", "read_email"])
    assert decide(granted, catalog("available", off), "gmail", "read_email").rule == "flag_disabled"
    assert decide(granted, catalog("available", on), "gmail", "send_email").allowed
