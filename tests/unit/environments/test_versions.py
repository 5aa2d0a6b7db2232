"""Versioning rules: labels, bumps and diffs of platform states."""

from __future__ import annotations

import pytest

from puraify.environments import versions as v
from puraify.environments.records import PlatformState, VersionRecord, looks_secret


def _record(label: str, state: dict) -> VersionRecord:
    entities, flows, flags = v.summarize(PlatformState.model_validate(state))
    return VersionRecord(
        project_id="p",
        label=label,
        seq=1,
        content_hash="x",
        entities=entities,
        flows=flows,
        flags=flags,
        environment="development",
        created_at="",
        created_by="",
    )


@pytest.mark.parametrize(
    ("highest", "kind", "expected"),
    [
        (None, "minor", "v1.0.0"),
        ("v1.4.3", "minor", "v1.5.0"),
        ("v1.4.3", "patch", "v1.4.4"),
        ("v2.9.9", "patch", "v2.9.10"),
    ],
)
def test_bump_from_highest_label_gives_next_semver(highest, kind, expected):
    assert v.bump(highest, kind) == expected


def test_higher_compares_numerically_not_as_text():
    assert v.higher("v1.9.0", "v1.10.0") == "v1.10.0"
    assert v.higher("v1.10.0", "v1.9.0") == "v1.10.0"


def test_bump_kind_minor_on_entity_or_flow_change_patch_on_flags_only():
    base = {"entities": ["User"], "flows": {"a": {"x": 1}}, "feature_flags": ["F"]}
    previous = _record("v1.0.0", base)
    same_logic = v.summarize(PlatformState.model_validate({**base, "feature_flags": []}))
    new_entity = v.summarize(PlatformState.model_validate({**base, "entities": ["User", "Order"]}))
    new_flow = v.summarize(PlatformState.model_validate({**base, "flows": {"a": {"x": 2}}}))
    assert v.bump_kind(previous, same_logic[0], same_logic[1]) == "patch"
    assert v.bump_kind(previous, new_entity[0], new_entity[1]) == "minor"
    assert v.bump_kind(previous, new_flow[0], new_flow[1]) == "minor"


def test_diff_counts_added_removed_and_changed_flows():
    old = _record("v1", {"entities": ["User", "Legacy"], "flows": {"a": 1, "b": 2, "gone": 3}})
    new = _record("v2", {"entities": ["User", {"name": "Notification"}], "flows": {"a": 1, "b": 20, "new": 4}})
    d = v.diff(old, new)
    assert d.entities_added == ["Notification"]
    assert d.entities_removed == ["Legacy"]
    assert d.logic_changed == 3  # b changed, gone removed, new added


def test_content_hash_ignores_key_order():
    a = PlatformState.model_validate({"flows": {"x": {"a": 1, "b": 2}}})
    b = PlatformState.model_validate({"flows": {"x": {"b": 2, "a": 1}}})
    assert v.content_hash(a) == v.content_hash(b)


def test_duplicate_entity_names_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        PlatformState.model_validate({"entities": ["User", {"name": "User"}]})


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("API_KEY", True),
        ("STRIPE_TOKEN", True),
        ("client_secret", True),
        ("DB_PASSWORD_FILE", True),
        ("BASE_URL", False),
        ("KEYBOARD_LAYOUT", False),
        ("MONKEY", False),
    ],
)
def test_secret_names_follow_the_patterns(name, secret):
    assert looks_secret(name) is secret
