"""Engine Control's stored shapes: the engine record and the catalog (platforms and feature flags)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from puraify.contract import Model

PlatformStatus = Literal["available", "maintenance", "disabled"]


class EngineRecord(Model):
    engine_id: str
    key_hash: str
    previous_key_hash: str | None = None
    previous_key_expires_at: float | None = None
    permissions: dict[str, list[str]] = {}
    scopes: list[str] = []
    projects: list[str] = []
    description: str = ""
    status: Literal["active", "revoked"] = "active"
    created_at: str
    updated_at: str


class ActionSpec(Model):
    model_config = ConfigDict(extra="forbid")

    required_scopes: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=32
    )


class Platform(Model):
    name: str
    status: PlatformStatus = "available"
    api_version: str = "v1"
    actions: dict[str, ActionSpec] = {}
    updated_at: str = ""
    updated_by: str = ""


class Flag(Model):
    name: str
    enabled: bool
    platform: str | None = None
    action_type: str | None = None
    description: str = ""
    updated_at: str = ""
    updated_by: str = ""


class Catalog(Model):
    """Everything a check reads besides the engine: platforms and feature flags."""

    platforms: dict[str, Platform] = {}
    flags: dict[str, Flag] = {}
