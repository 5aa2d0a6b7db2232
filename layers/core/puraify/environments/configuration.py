"""Configuration: merge patches of an environment's variables (secrets to the secret store) and flags."""

from __future__ import annotations

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments import versions as v
from puraify.environments.base import (
    EnvironmentsBase,
    validate_path,
)
from puraify.errors import ForbiddenError


class Configuration(EnvironmentsBase):
    """Change an environment's variables and flags."""

    def update_config(
        self, caller: Principal, project_id: str, env: str, body: m.EnvConfigRequest, request_id: str
    ) -> m.EnvConfigResponse:
        """Set or remove variables and flags: a new configuration revision, or none if nothing changes."""
        project_id = validate_path("path.project_id", project_id, m.ProjectId)
        env = validate_path("path.environment", env, m.EnvName)
        self._authorize(caller, project_id, env)
        _, found = self._load(project_id, [env])
        current = self._require(found, project_id, env)
        self._expect(current, body.expected_revision)
        self._check_size(current.variables, {k: val for k, val in body.env_variables.items() if val is not None})
        variables, changed = self._apply(project_id, env, dict(current.variables), dict(body.env_variables))
        flags = dict(current.flags)
        for name, enabled in body.feature_flags.items():
            if enabled is None:
                flags.pop(name, None)
            else:
                flags[name] = enabled
        flag_names = v.changed_names(current.flags, flags)
        approvals = body.approvals_required
        if approvals == current.approvals_required:
            approvals = None
        if approvals is not None and approvals < current.approvals_required and not caller.is_admin:
            # otherwise one engine could switch its reviewers off, then promote alone
            raise ForbiddenError(
                f"lowering approvals_required of '{env}' (now {current.approvals_required}) needs the 'admin' scope",
                code="missing_scope",
                details=[{"field": "approvals_required", "scope": "admin"}],
            )
        if not changed and not flag_names and approvals is None:
            return m.EnvConfigResponse(status="unchanged", changes=m.Change(), environment=self._view(current))
        at = iso(self.clock())
        head = current.model_copy(deep=True)
        head.revision += 1
        head.config_revision += 1
        head.variables, head.flags = variables, flags
        if approvals is not None:
            head.approvals_required = approvals
        head.secret_names = sorted(set(head.secret_names) | {x.secret_id for x in variables.values() if x.secret_id})
        head.updated_at, head.updated_by = at, caller.engine_id
        change = m.Change(env_vars_changed=changed, feature_flags=flag_names, approvals_required=approvals)
        head.last_change = r.LastChange(
            action="config", created_by=caller.engine_id, timestamp=at, request_id=request_id, changes=change
        )
        self._remember_release(head)
        self._commit(current, head)
        self._audit(caller, request_id, "config", project_id, env, change.model_dump())
        return m.EnvConfigResponse(status="updated", changes=change, environment=self._view(head))
