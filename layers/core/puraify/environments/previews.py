"""Creating environments (previews among them) and sweeping expired previews."""

from __future__ import annotations

import hashlib
import json
import uuid

from puraify.auth import Principal
from puraify.clock import iso
from puraify.environments import models as m
from puraify.environments import records as r
from puraify.environments.base import (
    EnvironmentsBase,
    fingerprints,
)
from puraify.errors import ConflictError
from puraify.observability import logger


class Previews(EnvironmentsBase):
    """Create environments from a base; remove expired previews."""

    def create(self, caller: Principal, body: m.EnvCreateRequest, request_id: str) -> m.EnvCreateResponse:
        """A new environment from a base (its version and configuration) overlaid with the given variables."""
        pid, env = body.project_id, body.new_environment
        self._authorize(caller, pid, env)
        names = [env] + ([body.base_from] if body.base_from else [])
        _, found = self._load(pid, names)
        fingerprint = self._request_fingerprint(body)
        existing = found.get(env)
        if existing is not None:
            if self.alive(existing):
                if existing.create_fingerprint == fingerprint and existing.revision == 1:
                    return self._created(existing)
                raise ConflictError(f"environment '{env}' of project '{pid}' already exists", code="env_exists")
            self._remove(existing)
        base = self._require(found, pid, body.base_from) if body.base_from else None
        self._check_size((base.variables if base else {}), body.env_variables)
        at = iso(self.clock())
        deployment_id = uuid.uuid4().hex
        gate = None
        if env == r.PRODUCTION and base and base.version:
            gate = self._gate(caller, request_id, pid, env, base.version, deployment_id)
        variables: dict[str, r.Variable] = {}
        written: set[str] = set()
        for name, var in (base.variables if base else {}).items():
            if name in body.env_variables:
                continue
            if var.secret:
                assert var.secret_id and var.secret_version
                value = self.secrets.get(var.secret_id, var.secret_version)
                variables[name] = self._secret(pid, env, name, value)
                written.add(variables[name].secret_id or "")
            else:
                variables[name] = var
        patched, _ = self._apply(pid, env, variables, dict(body.env_variables))
        written |= {var.secret_id for var in patched.values() if var.secret and var.secret_id}
        flags = {**(base.flags if base else {}), **body.feature_flags}
        ttl = body.ttl_hours or r.DEFAULT_TTL_HOURS
        change = r.LastChange(
            action="create",
            created_by=caller.engine_id,
            timestamp=at,
            source_env=body.base_from,
            request_id=request_id,
            deployment_id=deployment_id if base and base.version else None,
            gate_decision_id=gate.decision_id if gate else None,
            changes=m.Change(env_vars_changed=sorted(patched), feature_flags=sorted(flags)),
        )
        head = r.EnvironmentRecord(
            project_id=pid,
            env=env,
            variables=patched,
            flags=flags,
            secret_names=sorted(written),
            preview=body.preview,
            expires_at=self.clock() + ttl * 3600 if body.preview else None,
            base_from=body.base_from,
            create_fingerprint=fingerprint,
            created_at=at,
            updated_at=at,
            updated_by=caller.engine_id,
            last_change=change,
        )
        if base and base.version:
            self._follow(head, base)
        head.released = fingerprints(head.variables)
        self._commit(None, head, self._deployment(head) if head.version else None)
        self._audit(caller, request_id, "create_env", pid, env, {"base_from": body.base_from, "preview": body.preview})
        return self._created(head)

    def _created(self, head: r.EnvironmentRecord) -> m.EnvCreateResponse:
        view = self._view(head)
        return m.EnvCreateResponse(
            env=head.env,
            linked_version=head.version,
            url=view.url,
            preview=head.preview,
            expires_at=view.expires_at,
            revision=head.revision,
            config_revision=head.config_revision,
            variables=view.variables,
            feature_flags=view.feature_flags,
        )

    def sweep(self, limit: int = 100) -> m.SweepResult:
        """Remove expired previews: their secrets first, then their records (safe to run again)."""
        removed, deleted = [], 0
        for head in self.store.expired_previews(self.clock(), limit):
            deleted += self._remove(head)
            removed.append(f"{head.project_id}/{head.env}")
        if removed:
            logger.info("preview sweep", extra={"removed": removed, "secrets_deleted": deleted})
        return m.SweepResult(removed=removed, secrets_deleted=deleted)

    def _remove(self, head: r.EnvironmentRecord) -> int:
        deleted = sum(1 for name in head.secret_names if self.secrets.delete(name))
        self.store.delete_environment(head.project_id, head.env)
        return deleted

    def _request_fingerprint(self, body: m.EnvCreateRequest) -> str:
        shown = body.model_dump(mode="json")
        shown["env_variables"] = {
            k: (x if isinstance(x, str) and not r.looks_secret(k) else r.MASK)
            for k, x in shown["env_variables"].items()
        }
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()
