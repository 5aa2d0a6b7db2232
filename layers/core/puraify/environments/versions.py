"""Pure versioning logic: summaries of a platform state, semantic-version bumps, and diffs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from puraify.environments.models import VersionDiff
from puraify.environments.records import PlatformState, VersionRecord

Bump = Literal["minor", "patch"]


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_hash(state: PlatformState) -> str:
    """A digest of the whole state: equal states publish as the same version."""
    return _digest(state.model_dump(mode="json"))


def summarize(state: PlatformState) -> tuple[list[str], dict[str, str], dict[str, bool]]:
    """Entity names, a digest per flow, and the declared feature flags (a bare name means enabled)."""
    entities = [e if isinstance(e, str) else e.name for e in state.entities]
    flows = {name: _digest(body)[:16] for name, body in state.flows.items()}
    flags = {f: True for f in state.feature_flags if isinstance(f, str)}
    flags.update({f.name: f.enabled for f in state.feature_flags if not isinstance(f, str)})
    return entities, flows, flags


def parse_label(label: str) -> tuple[int, int, int]:
    major, minor, patch = label.removeprefix("v").split(".")
    return int(major), int(minor), int(patch)


def bump(highest: str | None, kind: Bump) -> str:
    """The next label after ``highest``: ``v1.0.0`` first, then a minor or a patch bump."""
    if highest is None:
        return "v1.0.0"
    major, minor, patch = parse_label(highest)
    return f"v{major}.{minor + 1}.0" if kind == "minor" else f"v{major}.{minor}.{patch + 1}"


def higher(a: str | None, b: str) -> str:
    return b if a is None or parse_label(b) > parse_label(a) else a


def bump_kind(previous: VersionRecord | None, entities: list[str], flows: dict[str, str]) -> Bump:
    """Minor when entities or flows changed since the previous version, patch otherwise."""
    if previous is None:
        return "minor"
    return "minor" if sorted(previous.entities) != sorted(entities) or previous.flows != flows else "patch"


def diff(old: VersionRecord | None, new: VersionRecord | None) -> VersionDiff:
    """What moving from ``old`` to ``new`` adds, removes and changes (``logic_changed`` counts flows)."""
    old_entities = set(old.entities) if old else set()
    new_entities = set(new.entities) if new else set()
    old_flows = old.flows if old else {}
    new_flows = new.flows if new else {}
    changed = sum(1 for name in old_flows.keys() | new_flows.keys() if old_flows.get(name) != new_flows.get(name))
    return VersionDiff(
        entities_added=sorted(new_entities - old_entities),
        entities_removed=sorted(old_entities - new_entities),
        logic_changed=changed,
    )


def changed_names(old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    """Names (of flags, variables) whose value differs; added or removed count too."""
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
