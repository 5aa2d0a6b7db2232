"""``cp.actions``: may this engine do action A on platform P now? Checks, ``require`` and ``guard``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from puraify_client.errors import ActionDenied
from puraify_client.models import Request, Response
from puraify_client.services.base import Service, register
from puraify_client.transport import SAFE


class ActionCheckRequest(Request):
    engine_id: str | None = None
    platform: str
    action_type: str
    project_id: str | None = None
    flow_id: str | None = None


class ActionCheckResponse(Response):
    allowed: bool
    required_scopes: list[str] = []
    reason: str | None = None
    rule: str | None = None
    engine_id: str
    platform: str
    action_type: str
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
    ) -> ActionCheckResponse:
        """The control plane's decision. ``engine_id`` checks another engine (admin only)."""
        body = ActionCheckRequest(
            engine_id=engine_id, platform=platform, action_type=action_type, project_id=project_id, flow_id=flow_id
        )
        return await self.transport.call("POST", "/actions/check", ActionCheckResponse, safety=SAFE, body=body)

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
