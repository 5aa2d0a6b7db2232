"""What an engine may do: every platform and action it holds, each decided by the check's own rules."""

from __future__ import annotations

from puraify.auth import Principal
from puraify.clock import now
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.decisions import evaluate
from puraify.errors import ForbiddenError, NotFoundError, ValidationFailedError


class Capabilities(EngineControlBase):
    def capabilities(
        self, caller: Principal, engine_id: str, *, project_id: str | None, limit: int, cursor: str | None
    ) -> m.CapabilitiesResponse:
        """The engine's held actions, sorted by platform then action, each with ``allowed`` now and why.

        Readable by the engine itself and by admins (403 for others); naming a project needs the
        caller's grant of it (403 before anything is read), and each item then also evaluates the
        engine's own grant. Pages of ``limit`` items; ``next_cursor`` is set whenever more remain.
        """
        if caller.engine_id != engine_id and not caller.is_admin:
            raise ForbiddenError("an engine's capabilities are readable by the engine itself and by admins",
                                 code="missing_scope")  # fmt: skip
        if project_id is not None:
            caller.require_project(project_id)
        engine = self.auth.engine(engine_id)
        if engine is None or engine.status != "active":
            raise NotFoundError(f"engine '{engine_id}' not found", code="engine_not_found")
        held = sorted((platform, action) for platform, actions in engine.permissions.items() for action in actions)
        if cursor is not None:
            platform, sep, action = cursor.partition(":")
            if not sep:
                raise ValidationFailedError(
                    "cursor is the next_cursor of a previous page",
                    code="invalid_cursor",
                    details=[{"field": "query.cursor", "message": "not a cursor of this list"}],
                )
            held = [pair for pair in held if pair > (platform, action)]
        page, more = held[:limit], len(held) > limit
        catalog, at = self.catalog(), now()
        items = []
        for platform, action in page:
            decision = evaluate(engine_id, engine, catalog, platform, action, project_id, at=at)
            items.append(
                m.Capability(
                    platform=platform,
                    action_type=action,
                    allowed=decision.allowed,
                    rule=decision.rule,
                    reason=decision.reason,
                    required_scopes=list(decision.required_scopes),
                )
            )
        return m.CapabilitiesResponse(
            engine_id=engine_id,
            project_id=project_id,
            capabilities=items,
            truncated=more,
            next_cursor=f"{page[-1][0]}:{page[-1][1]}" if more and page else None,
        )
