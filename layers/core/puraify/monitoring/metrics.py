"""``GET /metrics``: Prometheus text exposition (format 0.0.4) from stored aggregates only.

Nothing here scans a table or reads events. Per request, at most:

- one Query of the last hour's per-minute check counts (global: only for a caller granted every project);
- per project (at most ``MAX_PROJECTS``): one Query of its event/error windows of the last hour, one
  count of its unresolved alerts per severity, one Query of its environments and one of the latest
  deployment per environment (at most ``MAX_ENVIRONMENTS``);
- one read of the active policy manifest.

Cardinality is bounded by those caps and by fixed label sets (decisions, severities, deployment states).
The projects are the caller's grants, or those it names (``?project_id=a,b``), each checked against
its grants: an engine sees the series of its granted projects only. An engine granted every project
(``"*"``) has no list to default to (projects have no index to list without a scan): it names them.

Counts over the trailing hour are gauges (``..._last_hour``): the stored counters are per minute or
per window and expire, so they have no ever-growing total to expose as a Prometheus counter.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from puraify import __version__, clock
from puraify.auth import Principal
from puraify.errors import validation_error
from puraify.monitoring.models import SEVERITIES
from puraify.monitoring.ports import CheckCounts, DeploymentStates, MonitoringStore, PolicyBundle


@dataclass
class Sources:
    """Where the series come from: Monitoring's stores and the ports to the other services."""

    store: MonitoringStore
    window_seconds: int
    check_counts: CheckCounts
    deployment_states: DeploymentStates | None
    policy_bundle: PolicyBundle | None


SCOPE = "metrics:read"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_PROJECTS = 20
MAX_ENVIRONMENTS = 20
WINDOW_SECONDS = 3600
DECISIONS = ("allowed", "denied", "failed")
DEPLOYMENT_STATES = ("deployed", "baking", "healthy", "rolled_back", "cancelled", "no_signal", "failed")


class MetricsQuery(BaseModel):
    """``GET /metrics`` query: which of the caller's projects (comma-separated; default: every granted one)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_id: str | None = Field(
        default=None,
        max_length=MAX_PROJECTS * 65,
        description=f"Comma-separated project ids (at most {MAX_PROJECTS}); default: the caller's granted projects",
    )

    def projects(self) -> list[str] | None:
        if self.project_id is None:
            return None
        return sorted({p.strip() for p in self.project_id.split(",") if p.strip()})


def parse_query(params: dict[str, str]) -> MetricsQuery:
    """The query, 422 with the field named when it is not one."""
    from pydantic import ValidationError

    try:
        return MetricsQuery.model_validate(params)
    except ValidationError as error:
        raise validation_error([{**e, "loc": ("query", *e.get("loc", ()))} for e in error.errors()]) from error


def projects_for(caller: Principal, q: MetricsQuery) -> list[str]:
    """The projects of ``caller``'s scrape: its grants, or those it names, each checked (403), at most 20 (422)."""
    named = q.projects()
    if named is None:
        if caller.has_all_projects:
            return []
        named = sorted(caller.projects)
        if len(named) > MAX_PROJECTS:
            raise _too_many(len(named), "the caller is granted")
        return named
    if len(named) > MAX_PROJECTS:
        raise _too_many(len(named), "the query names")
    for project_id in named:
        caller.require_project(project_id)
    return named


def _too_many(count: int, who: str) -> Exception:
    return validation_error(
        [
            {
                "loc": ("query", "project_id"),
                "msg": f"{who} {count} projects; name at most {MAX_PROJECTS} per scrape (?project_id=a,b)",
                "type": "too_long",
            }
        ]
    )


class Exposition:
    """Metric families in the Prometheus text format, each with its HELP and TYPE once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.lines.append(f"# HELP {name} {_escape_help(help_text)}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_value(str(v))}"' for k, v in labels.items()) + "}"


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def exposition(monitoring: Sources, projects: list[str], *, every_project: bool) -> str:
    """The metrics text of ``projects`` (access checked before: ``Monitoring.metrics_for``).

    ``every_project``: the caller holds every project, so it may see the global check counts.
    """
    at = clock.now()
    out = Exposition()
    out.family(
        "puraify_build_info",
        "gauge",
        "The control plane's version (as GET /health reports it)",
        [({"version": __version__}, 1)],
    )
    if every_project:
        out.family(
            "puraify_checks_last_hour",
            "gauge",
            "Checks decided in the last hour, by decision (stored per-minute counts; every project)",
            [({"decision": d}, n) for d, n in _checks(monitoring, at).items()],
        )
    totals = {p: _totals(monitoring, p, at) for p in projects}
    out.family(
        "puraify_events_last_hour",
        "gauge",
        "Events ingested in the last hour, by project (stored aggregation windows)",
        [({"project_id": p}, t[0]) for p, t in totals.items()],
    )
    out.family(
        "puraify_errors_last_hour",
        "gauge",
        "Error events ingested in the last hour, by project (stored aggregation windows)",
        [({"project_id": p}, t[1]) for p, t in totals.items()],
    )
    out.family(
        "puraify_alerts_open",
        "gauge",
        "Unresolved alerts (open or acknowledged), by project and severity",
        [
            ({"project_id": p, "severity": s}, monitoring.store.count_unresolved(p, s))
            for p in projects
            for s in SEVERITIES
        ],
    )
    out.family(
        "puraify_deployment_state",
        "gauge",
        "1 for the state of the latest deployment of each environment, 0 for the other states",
        [
            ({"project_id": p, "environment": d["environment"], "state": s}, int(d["state"] == s))
            for p in projects
            for d in _deployments(monitoring, p)
            for s in DEPLOYMENT_STATES
        ],
    )
    policy = monitoring.policy_bundle() if monitoring.policy_bundle is not None else None
    out.family(
        "puraify_policy_info",
        "gauge",
        "The active policy bundle of the Planning Engine's gate (its revision and digest)",
        [({"revision": policy["revision"], "sha256": policy["sha256"]}, 1)] if policy else [],
    )
    return out.text()


def _checks(monitoring: Sources, at: float) -> dict[str, int]:
    first = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(at - WINDOW_SECONDS + 60))
    last = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(at))
    counts = dict.fromkeys(DECISIONS, 0)
    for item in monitoring.check_counts.minutes(first, last):
        for decision in DECISIONS:
            counts[decision] += int(item.get(decision, 0))
    return counts


def _totals(monitoring: Sources, project_id: str, at: float) -> tuple[int, int]:
    window = monitoring.window_seconds
    first = int((at - WINDOW_SECONDS) // window + 1) * window
    items, _ = monitoring.store.totals(project_id, first)
    events = sum(int(i.get("events", 0)) for i in items if int(i.get("window_start", -1)) >= first)
    errors = sum(int(i.get("errors", 0)) for i in items if int(i.get("window_start", -1)) >= first)
    return events, errors


def _deployments(monitoring: Sources, project_id: str) -> list[dict[str, Any]]:
    if monitoring.deployment_states is None:
        return []
    found = monitoring.deployment_states(project_id, MAX_ENVIRONMENTS)
    return [d for d in found if d.get("state") in DEPLOYMENT_STATES]
