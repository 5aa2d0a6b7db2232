"""Alert routes and silences: who may change them, how they are stored, and which an alert takes.

A project's routes are an ordered list. An alert goes to the first route whose ``match`` it
satisfies, and on down the list while the matched route says ``continue``; the routes of ``*``
(admin only) follow the project's own. With no match the stack's default channels apply.

Channel secrets (webhook secrets, PagerDuty routing keys, Slack URLs) are kept in Secrets Manager,
one entry per project with a new version at every save; the routes document holds only references
to them and their masks (``****`` and the last four characters). A ``PUT`` may send a mask back
unchanged (as a ``GET`` showed it) to keep the stored secret.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from puraify import clock
from puraify.auth import Principal
from puraify.cache import TtlCache
from puraify.errors import ForbiddenError, NotFoundError, ValidationFailedError
from puraify.monitoring.outbound import AddressGuard
from puraify.monitoring.ports import ChannelSecrets, RouteStore
from puraify.monitoring.route_models import ALL_PROJECTS, MASK, MAX_SILENCES, RoutesRequest, SilenceRequest

MANAGE_SCOPE = "alerts:manage"
SECRET_FIELDS = {"webhook": "secret", "pagerduty": "routing_key", "slack": "webhook_url"}
URL_FIELDS = {"webhook": "url", "pagerduty": "events_url", "slack": "webhook_url"}
MATCH_FIELDS = ("severity", "platform", "engine", "environment", "error_type", "kind")


def mask(secret: str) -> str:
    """``****`` and the last four characters (only ``****`` for a short secret)."""
    return MASK + secret[-4:] if len(secret) >= 12 else MASK


def authorize(caller: Principal, project_id: str) -> None:
    """``alerts:manage`` and a grant of the project; the routes and silences of ``*`` are admin only."""
    caller.require(MANAGE_SCOPE)
    if project_id == ALL_PROJECTS:
        if not caller.is_admin:
            raise ForbiddenError("the routes and silences of every project ('*') need the 'admin' scope",
                                 code="missing_scope")  # fmt: skip
        return
    caller.require_project(project_id)


def alert_labels(alert: dict[str, Any]) -> dict[str, str | None]:
    """The values routes and silences match on."""
    details = alert.get("details") or {}
    return {
        "severity": alert.get("severity"),
        "kind": alert.get("event_type"),
        "platform": details.get("platform"),
        "engine": details.get("engine") or alert.get("triggered_by"),
        "environment": details.get("environment"),
        "error_type": details.get("error_type"),
    }


def matches(match: dict[str, Any], labels: dict[str, str | None]) -> bool:
    """Every field the match names holds the alert's value (case-insensitively)."""
    for name in MATCH_FIELDS:
        wanted = match.get(name)
        if wanted:
            value = labels.get(name)
            if value is None or str(value).lower() not in {str(w).lower() for w in wanted}:
                return False
    return True


@dataclass
class Plan:
    """Where an alert goes: the channels of the routes it takes (empty: the default channels), and
    the silence that holds it (or None)."""

    routes: list[dict[str, Any]] = field(default_factory=list)
    silence: dict[str, Any] | None = None

    @property
    def routed(self) -> bool:
        return bool(self.routes)


def take(routes: list[dict[str, Any]], labels: dict[str, str | None]) -> list[dict[str, Any]]:
    """The routes an alert takes: the first match, then on while the matched route says ``continue``."""
    taken = []
    for route in routes:
        if matches(route.get("match") or {}, labels):
            taken.append(route)
            if not route.get("continue"):
                break
    return taken


def active(silence: dict[str, Any], at: float) -> bool:
    return clock.parse_iso(silence["starts_at"]) <= at < clock.parse_iso(silence["ends_at"])


def silence_view(silence: dict[str, Any], at: float | None = None) -> dict[str, Any]:
    shown = {k: v for k, v in silence.items() if k not in ("pk", "sk", "expires_at")}
    shown["active"] = active(silence, clock.now() if at is None else at)
    return shown


class Routing:
    """Routes and silences over a RouteStore and the channel secrets."""

    def __init__(
        self,
        store: RouteStore,
        secrets: ChannelSecrets,
        guard: AddressGuard,
        retention_days: int,
        read_ttl: float = 2.0,
    ):
        self.store = store
        self.secrets = secrets
        self.guard = guard
        self.retention_days = retention_days
        self._secret_cache: dict[tuple[str, str], dict[str, str]] = {}
        # What raising an alert reads (a project's routes and silences), kept briefly: one ingest
        # request may raise several alerts of one project. Changes made here drop the entry at once;
        # other instances see them within ``read_ttl`` seconds.
        self._routes: TtlCache[str, dict[str, Any] | None] = TtlCache(read_ttl)
        self._silences: TtlCache[str, list[dict[str, Any]]] = TtlCache(read_ttl)

    # --- routes ---------------------------------------------------------------------------------

    def get_routes(self, caller: Principal, project_id: str) -> dict[str, Any]:
        """The project's routes with every secret masked (an empty list before the first save)."""
        authorize(caller, project_id)
        document = self.store.get_routes(project_id) or {"routes": []}
        return {
            "project_id": project_id,
            "routes": [_shown(route) for route in document["routes"]],
            "updated_at": document.get("updated_at"),
            "updated_by": document.get("updated_by"),
        }

    def put_routes(self, caller: Principal, project_id: str, body: RoutesRequest) -> dict[str, Any]:
        """Replace the project's routes: 422 (nothing saved) on a refused URL or an unknown mask."""
        authorize(caller, project_id)
        previous = self.store.get_routes(project_id)
        old_values = self._values(previous) if previous else {}
        old_channels = {
            (route["name"], n): channel
            for route in (previous or {}).get("routes", [])
            for n, channel in enumerate(route["channels"])
        }
        problems: list[dict[str, Any]] = []
        values: dict[str, str] = {}
        routes = []
        for i, route in enumerate(body.routes):
            channels = []
            for n, channel in enumerate(route.channels):
                given = channel.model_dump(exclude_none=True)
                kind = given["type"]
                where = f"body.routes.{i}.channels.{n}"
                secret_field = SECRET_FIELDS.get(kind)
                stored = {k: v for k, v in given.items() if k != secret_field}
                if secret_field:
                    secret = given[secret_field]
                    if secret.startswith(MASK):
                        old = old_channels.get((route.name, n))
                        if not old or old["type"] != kind or old.get("mask") != secret or old["key"] not in old_values:
                            problems.append({"field": f"{where}.{secret_field}", "type": "value_error",
                                             "message": "a masked value that matches no stored secret of this "
                                                        "route and channel: send the secret itself"})  # fmt: skip
                            continue
                        secret = old_values[old["key"]]
                    key = f"{i}.{n}.{uuid.uuid4().hex[:8]}"
                    values[key] = secret
                    stored.update(key=key, mask=mask(secret))
                url_field = URL_FIELDS.get(kind)
                url = secret if url_field == secret_field and secret_field else given.get(url_field or "")
                if url:
                    refusal = self.guard.refusal(url)
                    if refusal:
                        problems.append({"field": f"{where}.{url_field}", "type": "value_error", "message": refusal})
                channels.append(stored)
            routes.append({**route.model_dump(by_alias=True, exclude={"channels"}, exclude_none=True),
                           "channels": channels})  # fmt: skip
        if problems:
            raise ValidationFailedError(f"{len(problems)} invalid field(s)", details=problems)
        document: dict[str, Any] = {
            "project_id": project_id,
            "routes": routes,
            "updated_at": clock.iso(),
            "updated_by": caller.engine_id,
        }
        if values:
            name, version = self.secrets.put(_secret_project(project_id), "alert-routes", "channels",
                                             json.dumps(values), str(uuid.uuid4()))  # fmt: skip
            document["secret"] = {"name": name, "version": version}
        self.store.put_routes(project_id, document)
        self._routes.invalidate(project_id)
        return self.get_routes(caller, project_id)

    def _values(self, document: dict[str, Any]) -> dict[str, str]:
        ref = document.get("secret")
        if not ref:
            return {}
        return self.secret_values(ref["name"], ref["version"])

    def secret_values(self, name: str, version: str) -> dict[str, str]:
        """The secrets of one saved version (versions never change, so they are cached)."""
        if (name, version) not in self._secret_cache:
            self._secret_cache[(name, version)] = json.loads(self.secrets.get(name, version))
        return self._secret_cache[(name, version)]

    # --- silences -------------------------------------------------------------------------------

    def add_silence(self, caller: Principal, body: SilenceRequest) -> dict[str, Any]:
        """Store a silence (``starts_at`` defaults to now); 409 past MAX_SILENCES current ones."""
        authorize(caller, body.project_id)
        at = clock.now()
        starts = body.starts_at.timestamp() if body.starts_at else at
        ends = body.ends_at.timestamp()
        if ends <= at:
            raise ValidationFailedError(
                "1 invalid field(s)",
                details=[{"field": "body.ends_at", "type": "value_error", "message": "ends_at must be in the future"}],
            )
        if len([s for s in self.store.silences(body.project_id) if clock.parse_iso(s["ends_at"]) > at]) >= MAX_SILENCES:
            raise ValidationFailedError("1 invalid field(s)", details=[
                {"field": "body.project_id", "type": "value_error",
                 "message": f"at most {MAX_SILENCES} current silences per project"}])  # fmt: skip
        silence = {
            "silence_id": uuid.uuid4().hex,
            "project_id": body.project_id,
            "match": body.match.model_dump(exclude_none=True),
            "starts_at": clock.iso(starts),
            "ends_at": clock.iso(ends),
            "reason": body.reason,
            "created_by": caller.engine_id,
            "created_at": clock.iso(at),
            "expires_at": clock.expires_at(self.retention_days, ends),
        }
        self.store.put_silence(silence)
        self._silences.invalidate(body.project_id)
        return silence_view(silence, at)

    def list_silences(self, caller: Principal, project_id: str) -> dict[str, Any]:
        authorize(caller, project_id)
        found = sorted(self.store.silences(project_id), key=lambda s: s["starts_at"])
        return {"project_id": project_id, "silences": [silence_view(s) for s in found]}

    def delete_silence(self, caller: Principal, silence_id: str) -> None:
        """End a silence now (404 if unknown; the caller needs the grant of its project)."""
        caller.require(MANAGE_SCOPE)  # before the lookup: no scope, no hint whether it exists
        found = self.store.find_silence(silence_id)
        if found is None:
            raise NotFoundError(f"no silence {silence_id!r}", code="silence_not_found")
        authorize(caller, found["project_id"])
        self.store.delete_silence(silence_id)
        self._silences.invalidate(found["project_id"])

    # --- where an alert goes -------------------------------------------------------------------

    def plan(self, alert: dict[str, Any], at: float) -> Plan:
        """The routes an alert takes and the silence that holds it, from the project's and ``*``'s."""
        labels = alert_labels(alert)
        plan = Plan(silence=self.silence_of(alert, at))
        documents = [
            d for d in (self._routes.get(p, self.store.get_routes) for p in (alert["project_id"], ALL_PROJECTS)) if d
        ]
        every = [{**route, "_secret": d.get("secret")} for d in documents for route in d["routes"]]
        plan.routes = take(every, labels)
        return plan

    def silence_of(self, alert: dict[str, Any], at: float) -> dict[str, Any] | None:
        """The active silence (the project's, then ``*``'s) that holds ``alert`` at ``at``, if any."""
        labels = alert_labels(alert)
        for project_id in (alert["project_id"], ALL_PROJECTS):
            for silence in self._silences.get(project_id, self.store.silences):
                if active(silence, at) and matches(silence.get("match") or {}, labels):
                    return silence
        return None


def _secret_project(project_id: str) -> str:
    """A project's part of a secret's name (Secrets Manager allows no ``*`` or ``:`` in names or tags)."""
    if project_id == ALL_PROJECTS:
        return "@all"
    safe = project_id.replace(":", "-")
    return safe if safe == project_id else f"{safe}-{hashlib.sha256(project_id.encode()).hexdigest()[:8]}"


def _shown(route: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in route.items() if k != "channels"}
    channels = []
    for channel in route["channels"]:
        visible = {k: v for k, v in channel.items() if k not in ("key", "mask")}
        secret_field = SECRET_FIELDS.get(channel["type"])
        if secret_field:
            visible[secret_field] = channel.get("mask", MASK)
        channels.append(visible)
    shown["channels"] = channels
    shown.setdefault("continue", False)
    return shown
