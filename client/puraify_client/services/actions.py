"""``cp.actions``: may this engine do action A on platform P now? Checks, ``require`` and ``guard``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

from puraify_client.errors import ActionDenied
from puraify_client.models import Request, Response
from puraify_client.services.base import Service, register
from puraify_client.transport import SAFE
from puraify_client.types import (
    ActionName,
    CheckName,
    CheckProject,
    EngineId,
    FlagName,
    PlatformName,
    ProjectGrant,
    Scope,
)


class ActionCheckRequest(Request):
    engine_id: EngineId | None = None
    platform: CheckName
    action_type: CheckName
    project_id: CheckProject | None = None
    flow_id: CheckProject | None = None
    explain: bool | None = None


class ExplanationStep(Response):
    rule: str
    outcome: str  # pass, fail, not_evaluated
    detail: str = ""


class Explanation(Response):
    """What a check evaluated, in order; ``decided_by`` is the denying rule (None when allowed)."""

    decided_by: str | None = None
    steps: list[ExplanationStep] = []
    engine_revision: str | None = None
    catalog_revision: str | None = None


class ActionCheckResponse(Response):
    allowed: bool
    required_scopes: list[str] = []
    reason: str | None = None
    rule: str | None = None
    engine_id: str
    platform: str
    action_type: str
    request_id: str
    explanation: Explanation | None = None  # with ``explain=True``


class SimulatedFlips(Response):
    platform: str
    action_type: str
    project_id: str | None = None
    allow_to_deny: int
    deny_to_allow: int


class SimulatedExample(Response):
    request_id: str
    timestamp: str
    engine_id: str
    platform: str
    action_type: str
    project_id: str | None = None
    before: str
    after: str
    rule: str | None = None


class SimulateResponse(Response):
    replayed: int
    unchanged: int
    allow_to_deny: int
    deny_to_allow: int
    by_action: list[SimulatedFlips] = []
    examples: list[SimulatedExample] = []
    truncated: bool
    records_read: int = 0
    max_records: int = 0
    not_replayed: int = 0
    since: str = ""
    until: str = ""


class SimulatedEngine(Request):
    """An engine's new permissions, scopes or project grants (as ``engines.permissions`` takes them)."""

    engine_id: EngineId
    permissions: dict[PlatformName, list[ActionName]] | None = Field(default=None, max_length=100)
    scopes: list[Scope] | None = Field(default=None, max_length=32)
    projects: list[ProjectGrant] | None = Field(default=None, max_length=200)


class SimulatedPlatform(Request):
    status: Literal["available", "maintenance", "disabled"]


class SimulatedFlag(Request):
    enabled: bool
    platform: PlatformName | None = None
    action_type: ActionName | None = None


class SimulatedChange(Request):
    engine: SimulatedEngine | None = None
    platforms: dict[PlatformName, SimulatedPlatform] = Field(default_factory=dict, max_length=100)
    flags: dict[FlagName, SimulatedFlag] = Field(default_factory=dict, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> SimulatedChange:
        if self.engine is None and not self.platforms and not self.flags:
            raise ValueError("name at least one of engine, platforms, flags")
        return self


class SimulateRequest(Request):
    change: SimulatedChange
    since: str | None = None
    until: str | None = None


MAX_BATCH_CHECKS = 25  # the server's limit per request


class ActionCheckBatchRequest(Request):
    checks: list[ActionCheckRequest] = Field(min_length=1, max_length=MAX_BATCH_CHECKS)


class ActionCheckBatchResponse(Response):
    results: list[ActionCheckResponse]
    request_id: str


@register
class Actions(Service):
    name = "actions"

    async def check(
        self,
        platform: str,
        action_type: str,
        *,
        engine_id: str | None = None,
        project_id: str | None = None,
        flow_id: str | None = None,
        explain: bool = False,
    ) -> ActionCheckResponse:
        """The control plane's decision. ``engine_id`` checks another engine (scope ``checks:on_behalf``).

        ``explain=True``: the answer's ``explanation`` lists each step evaluated, in order, and the rule that decided.
        """
        body = ActionCheckRequest(
            engine_id=engine_id,
            platform=platform,
            action_type=action_type,
            project_id=project_id,
            flow_id=flow_id,
            explain=explain or None,
        )
        return await self.transport.call("POST", "/actions/check", ActionCheckResponse, safety=SAFE, body=body)

    async def simulate(
        self,
        *,
        engine: Mapping[str, Any] | None = None,
        platforms: Mapping[str, str] | None = None,
        flags: Mapping[str, bool] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> SimulateResponse:
        """What a change would flip (admin): the audited checks of the window (default 24 h, at most 7 days)
        replayed with and without it. Nothing changes.

        ``engine``: ``{"engine_id", "permissions"?, "scopes"?, "projects"?}``; ``platforms``: name -> status;
        ``flags``: name -> enabled.
        """
        change: dict[str, Any] = {}
        if engine is not None:
            change["engine"] = dict(engine)
        if platforms:
            change["platforms"] = {name: {"status": status} for name, status in platforms.items()}
        if flags:
            change["flags"] = {name: {"enabled": enabled} for name, enabled in flags.items()}
        body = SimulateRequest(change=change, since=since, until=until)
        return await self.transport.call("POST", "/actions/simulate", SimulateResponse, safety=SAFE, body=body)

    async def check_many(
        self, checks: Sequence[tuple[str, str] | Mapping[str, Any] | ActionCheckRequest]
    ) -> list[ActionCheckResponse]:
        """Many decisions in few requests (25 per request): one per check, in the order given.

        Each check is ``(platform, action_type)``, or a mapping with the fields of ``check``. A check
        this engine may not make (another engine's without ``checks:on_behalf``) comes back as a denial whose
        ``rule`` is the error code; a batch the server cannot decide raises as a whole (fail closed).
        """
        requests = [_check_request(check) for check in checks]
        decisions: list[ActionCheckResponse] = []
        for start in range(0, len(requests), MAX_BATCH_CHECKS):
            body = ActionCheckBatchRequest(checks=requests[start : start + MAX_BATCH_CHECKS])
            reply = await self.transport.call(
                "POST", "/actions/check", ActionCheckBatchResponse, safety=SAFE, body=body
            )
            decisions.extend(reply.results)
        return decisions

    async def require(
        self, platform: str, action_type: str, *, project_id: str | None = None, flow_id: str | None = None
    ) -> ActionCheckResponse:
        """Like ``check``, but raises ``ActionDenied`` (a ``PermissionDenied``) with the server's reason."""
        decision = await self.check(platform, action_type, project_id=project_id, flow_id=flow_id)
        if not decision.allowed:
            raise ActionDenied(decision)
        return decision

    def guard[**P, T](
        self, platform: str, action_type: str
    ) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
        """Decorator: the coroutine runs only after ``require(platform, action_type)`` passed."""

        def decorate(action: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
            @functools.wraps(action)
            async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
                await self.require(platform, action_type)
                return await action(*args, **kwargs)

            return guarded

        return decorate


def _check_request(check: tuple[str, str] | Mapping[str, Any] | ActionCheckRequest) -> ActionCheckRequest:
    if isinstance(check, ActionCheckRequest):
        return check
    if isinstance(check, tuple):
        platform, action_type = check
        return ActionCheckRequest(platform=platform, action_type=action_type)
    return ActionCheckRequest.model_validate(dict(check))
