"""The field types of the control plane's request models, mirrored so bad values fail before sending.

Each alias carries the same bounds as the server's (``puraify.*.models``/``records``); a test
(tests/client/test_sdk_types.py) compares every SDK request model's JSON schema with the server's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from puraify_client.models import Checked

# monitoring
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Status = Annotated[str, StringConstraints(min_length=1, max_length=32)]
VersionText = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Message = Annotated[str, StringConstraints(max_length=4096)]
AlertMessage = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Severity = Literal["low", "medium", "high", "critical"]
DurationMs = Annotated[float, Field(ge=0, le=86_400_000, allow_inf_nan=False)]
Retries = Annotated[int, Field(ge=0, le=10_000)]

# environments
ProjectId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
VersionLabel = Annotated[str, StringConstraints(pattern=r"^v\d{1,6}\.\d{1,6}\.\d{1,6}$")]
VarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
VarValue = Annotated[str, StringConstraints(max_length=4096, strip_whitespace=False)]
FlagName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
FlowId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
EntityName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
RollbackReason = Annotated[str, StringConstraints(min_length=1, max_length=500)]
MAX_BAKE_SECONDS = 604_800

# Engine Control (``puraify.engine_control.models``): engines, platforms, flags, checks.
EngineId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
PlatformName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")]
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_:.-]{1,64}$")]
ProjectGrant = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9_.:-]{1,128})$")]  # a project id, or "*"
PlatformApiVersion = Annotated[str, StringConstraints(min_length=1, max_length=32)]
CheckName = Annotated[str, StringConstraints(min_length=1, max_length=64)]  # a checked platform or action
CheckProject = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Description = Annotated[str, StringConstraints(max_length=1024)]
ApiVersion = Literal["2026-12-01", "2026-12-07"]  # what an engine may be pinned to (Puraify-Version)


class EntitySpec(Checked):
    """An entity of the platform: only its name matters to versioning, the rest is kept as given."""

    model_config = ConfigDict(extra="allow")
    name: EntityName


class FlagSpec(Checked):
    model_config = ConfigDict(extra="forbid")
    name: FlagName
    enabled: bool = True


class PlatformState(Checked):
    """What a version freezes: entities (names or specs), flows by id, and feature flags as a *list*.

    Unknown top-level keys are kept, as the control plane keeps them.
    """

    model_config = ConfigDict(extra="allow")
    entities: list[EntityName | EntitySpec] = Field(default_factory=list, max_length=2000)
    flows: dict[FlowId, Any] = Field(default_factory=dict, max_length=2000)
    feature_flags: list[FlagName | FlagSpec] = Field(default_factory=list, max_length=500)
