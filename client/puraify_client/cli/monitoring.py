"""Monitoring commands: logs (query, tail), errors, stats, overview, deployments, alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import click

from puraify_client.cli import Options, alert_routes, output, pass_options
from puraify_client.client import ControlPlane

TAIL_PAGE = 200  # newest logs read per poll: more new logs than this between two polls are not all shown
LOG_COLUMNS = ["timestamp", "project_id", "engine", "platform", "action", "status", "event_type", "message"]


def _filters(func: Any) -> Any:
    """The log filters shared by ``logs query`` and ``logs tail``, ``--project`` first in the help."""
    for name, help_text in reversed(
        [
            ("engine", "Reporting engine."),
            ("platform", "Platform."),
            ("status", "success, error, ..."),
            ("event-type", "execution, validation, ..."),
            ("flow", "Flow id."),
            ("user", "User id (the user's trail)."),
            ("session", "Session id."),
            ("environment", "production, staging, ..."),
            ("version", "The reporting engine's version."),
            ("request-id", "Request id."),
            ("since", "ISO 8601 time, epoch seconds or a time ago (1h, 24h, 7d), e.g. 2025-07-25T14:00:00Z."),
        ]
    ):
        func = click.option(f"--{name}", help=help_text)(func)
    return click.option("--project", required=True, help="Project id.")(func)


_API_NAMES = {"flow": "flow_id", "user": "user_id", "session": "session_id"}


def _params(filters: dict[str, str | None]) -> dict[str, str | None]:
    return {_API_NAMES.get(name, name): value for name, value in filters.items() if name != "project"}


@click.group()
def logs() -> None:
    """Engine logs: query them, or follow new ones as they arrive (needs logs:read)."""


@logs.command("query")
@_filters
@click.option("--until", help="ISO 8601 time.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Logs per page.")
@click.option("--all", "everything", is_flag=True, help="Follow every page, not only the first.")
@pass_options
def logs_query(options: Options, until: str | None, limit: int, everything: bool, **filters: str | None) -> None:
    """Logs matching the filters, newest first.

    \b
    Example:
      puraify logs query --project pf_123 --status error --since 2025-07-25T00:00:00Z
    """
    project = str(filters["project"])
    params = {**_params(filters), "until": until}

    async def fetch(cp: ControlPlane) -> list[dict[str, Any]]:
        if not everything:
            return [output.plain(r) for r in (await cp.monitoring.logs(project, limit=limit, **params)).logs]
        found: list[dict[str, Any]] = []
        async for record in cp.monitoring.iter_logs(project, page_size=limit, **params):
            found.append(output.plain(record))
            if len(found) % limit == 0:
                output.status_line(f"fetched {len(found):,} logs ...")
        output.status_line(f"fetched {len(found):,} logs.\n")
        return found

    rows = options.run(fetch)
    if options.as_json:
        output.emit_json(rows)
    else:
        output.table(rows, LOG_COLUMNS, empty="(no logs)")


@logs.command("tail")
@_filters
@click.option("--interval", type=click.FloatRange(0.1), default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--lines", type=click.IntRange(0, 1000), default=10, show_default=True, help="Recent logs shown first.")
@click.option("--count", type=click.IntRange(1), help="Stop after printing this many logs.")
@click.option("--for", "duration", type=click.FloatRange(0), help="Stop after this many seconds.")
@pass_options
def logs_tail(
    options: Options, interval: float, lines: int, count: int | None, duration: float | None, **filters: str | None
) -> None:
    """Print the recent logs, then new ones as they arrive (Ctrl-C stops). JSON: one object per line."""
    project = str(filters["project"])
    params = _params(filters)
    deadline = time.monotonic() + duration if duration is not None else None

    def show(record: dict[str, Any]) -> None:
        if options.as_json:
            click.echo(json.dumps(record, default=str))
        else:
            click.echo("  ".join(output.cell(record.get(c)) for c in LOG_COLUMNS))

    async def follow(cp: ControlPlane) -> None:
        seen: set[str] = set()
        printed = 0
        first = True
        while True:
            page = await cp.monitoring.logs(project, limit=TAIL_PAGE, **params)
            fresh = [output.plain(r) for r in page.logs if _key(r) not in seen]
            seen = {_key(r) for r in page.logs}  # older ones cannot come back into the newest page
            if first:
                fresh = fresh[:lines]
                first = False
            for record in reversed(fresh):
                show(record)
                printed += 1
                if count is not None and printed >= count:
                    return
            if deadline is not None and time.monotonic() >= deadline:
                return
            await asyncio.sleep(interval)

    with contextlib.suppress(KeyboardInterrupt):
        options.run(follow)


def _key(record: Any) -> str:
    return record.event_id or f"{record.timestamp}|{record.engine}|{record.message}"


@click.command("errors")
@click.option("--project", required=True, help="Project id.")
@click.option("--since", help="ISO 8601 time.")
@click.option("--engine", help="Reporting engine.")
@click.option("--platform", help="Platform.")
@pass_options
def errors(options: Options, project: str, since: str | None, engine: str | None, platform: str | None) -> None:
    """Errors grouped by fingerprint, most frequent first (needs logs:read).

    A fingerprint is the error type, platform, engine and the message with ids, numbers and
    tokens stripped. --since defaults to the last 24 hours.
    """
    result = options.run(
        lambda cp: cp.monitoring.errors(project_id=project, since=since, engine=engine, platform=platform)
    )
    data = output.plain(result)
    if options.as_json:
        output.emit_json(data)
        return
    output.table(
        data["errors"],
        ["count", "severity", "error_type", "platform", "engine", "last_seen", "sample_message"],
        empty="(no errors)",
    )


@click.command("stats")
@click.option("--project", required=True, help="Project id.")
@click.option("--since", help="ISO 8601 time.")
@pass_options
def stats(options: Options, project: str, since: str | None) -> None:
    """Per platform and action: count, errors, error rate, retries, duration p50/p95/max (needs logs:read).

    --since defaults to the last 24 hours.
    """
    result = output.plain(options.run(lambda cp: cp.monitoring.stats(project_id=project, since=since)))
    if options.as_json:
        output.emit_json(result)
        return
    rows = [
        {**row, **{f"{k}_ms": v for k, v in (row.pop("duration_ms", None) or {}).items()}} for row in result["stats"]
    ]
    columns = ["platform", "action", "count", "errors", "error_rate", "retries", "p50_ms", "p95_ms", "max_ms"]
    output.table(rows, columns, empty="(no events)")


SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """A trend in one line of block characters, scaled to its largest value (blank for zero)."""
    top = max(values, default=0)
    if not top:
        return "-"
    return "".join(SPARK[round(v / top * (len(SPARK) - 1))] for v in values)


@click.command("overview")
@click.option("--project", help="Project id: adds its events, errors and error groups.")
@click.option("--since", help="ISO 8601 time, epoch seconds, or a time ago: 1h, 24h (default: an hour before --until).")
@click.option("--until", help="ISO 8601 time or epoch seconds (default: now); at most 24 hours after --since.")
@click.option("--top", type=click.IntRange(1, 50), help="Error groups shown (default 10).")
@pass_options
def overview(options: Options, project: str | None, since: str | None, until: str | None, top: int | None) -> None:
    """The console's overview as text: checks allowed/denied/failed and the top deny rules (every engine's
    checks: shown to engines granted every project), and with --project its events, errors and top error
    groups with their trend (needs logs:read).

    Read from stored counters only, whatever the traffic.

    \b
    Example:
      puraify overview --project pf_123 --since 24h
      puraify overview --since 2025-07-25T14:00:00Z --until 2025-07-26T14:00:00Z
    """
    result = options.run(lambda cp: cp.monitoring.overview(project, since=since, until=until, top=top))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    checks = result.checks
    step = f"  (one point per {checks.step_seconds} s)" if checks else ""
    click.echo(f"{result.since} .. {result.until}{step}")
    if checks is None:
        click.echo("checks: every project's, shown only to engines granted every project")
    else:
        totals = checks.totals
        click.echo(f"checks: {totals.allowed:,} allowed, {totals.denied:,} denied, {totals.failed:,} failed")
        click.echo(f"  allowed {sparkline(checks.allowed)}")
        click.echo(f"  denied  {sparkline(checks.denied)}")
        if checks.loss_bound:
            click.echo(f"  ({checks.loss_bound})")
        click.echo("\ntop deny rules:")
        output.table([output.plain(r) for r in checks.top_deny_rules], ["rule", "count"], empty="(no denials)")
    if result.project is None:
        return
    series = result.project
    click.echo(f"\nproject {result.project_id}: {series.totals.events:,} events, {series.totals.errors:,} errors")
    click.echo(f"  errors  {sparkline(series.errors)}")
    groups = [{**output.plain(g), "trend": sparkline(g.trend)} for g in series.error_groups]
    click.echo(f"\nerror groups ({len(groups)} of {series.error_groups_total}):")
    output.table(groups, ["count", "trend", "severity", "error_type", "platform", "engine", "last_seen",
                          "sample_message"], empty="(no errors)")  # fmt: skip


DEPLOYMENT_COLUMNS = ["created_at", "environment", "action", "version", "previous_version", "state", "actor",
                      "deployment_id", "reason"]  # fmt: skip


@click.command("deployments")
@click.option("--project", required=True, help="Project id.")
@click.option("--environment", help="Only this environment.")
@click.option("--since", help="ISO 8601 time, epoch seconds, or a time ago: 1h, 24h, 7d.")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True, help="Markers shown.")
@pass_options
def deployments(options: Options, project: str, environment: str | None, since: str | None, limit: int) -> None:
    """A project's deployment markers, newest first: every publish, promotion and rollback, with the
    deployment watch's verdict in state (baking, healthy, rolled_back, ...) (needs logs:read).

    \b
    Example:
      puraify deployments --project pf_123 --environment production
    """
    result = options.run(
        lambda cp: cp.monitoring.deployments(project, environment=environment, since=since, limit=limit)
    )
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    output.table([output.plain(d) for d in result.deployments], DEPLOYMENT_COLUMNS, empty="(no deployments)")


@click.group()
def alerts() -> None:
    """Alerts: list them, acknowledge and resolve them (open -> acknowledged -> resolved), raise one;
    route them (routes get|set), silence them, and see their deliveries."""


ALERT_COLUMNS = ["created_at", "alert_id", "severity", "status", "raised_by", "regression", "message"]


@alerts.command("list")
@click.option("--project", help="Project id; without it, the engine-level alerts (needs a grant of '*').")
@click.option("--status", type=click.Choice(["open", "acknowledged", "resolved"]), help="Only alerts in this state.")
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]), help="Only this severity.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Alerts shown.")
@pass_options
def alerts_list(options: Options, project: str | None, status: str | None, severity: str | None, limit: int) -> None:
    """A project's alerts, newest first (needs logs:read); without --project the engine-level alerts
    (key_expiring, engine_anomaly: of no project), for an engine granted every project ('*').

    \b
    Example:
      puraify alerts list --project pf_123 --status open --severity critical
      puraify alerts list --status open
    """
    rows = options.first(
        lambda cp: cp.monitoring.iter_alerts(project, status=status, severity=severity, page_size=min(limit, 100)),
        limit,
    )
    if options.as_json:
        output.emit_json(rows)
    else:
        output.table(rows, ALERT_COLUMNS, empty="(no alerts)")


def _transition(options: Options, alert_id: str, reason: str | None, resolve: bool) -> None:
    def act(cp: ControlPlane) -> Any:
        method = cp.monitoring.resolve_alert if resolve else cp.monitoring.acknowledge_alert
        return method(alert_id, reason)

    result = options.run(act)
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        who = result.resolved_by if resolve else result.acknowledged_by
        click.echo(f"alert {result.alert_id}: {result.status} by {who}")


@alerts.command("ack")
@click.argument("alert_id")
@click.option("--reason", help="Why (kept in the alert's history and the audit timeline).")
@pass_options
def alerts_ack(options: Options, alert_id: str, reason: str | None) -> None:
    """Acknowledge ALERT_ID: someone is on it (needs alerts:manage). It still counts in the plan gate."""
    _transition(options, alert_id, reason, resolve=False)


@alerts.command("resolve")
@click.argument("alert_id")
@click.option("--reason", help="Why (kept in the alert's history and the audit timeline).")
@pass_options
def alerts_resolve(options: Options, alert_id: str, reason: str | None) -> None:
    """Resolve ALERT_ID (needs alerts:manage): the plan gate stops counting it.

    An alert raised from an error fingerprint also resolves itself once the fingerprint has been
    quiet for AlertAutoResolveMinutes; the same error later opens a new alert marked regression.
    """
    _transition(options, alert_id, reason, resolve=True)


@alerts.command("send")
@click.argument("message")
@click.option(
    "--severity",
    type=click.Choice(["low", "medium", "high", "critical"]),
    default="high",
    show_default=True,
    help="critical alerts also count against deployments in the plan gate.",
)
@click.option("--project", required=True, help="Project id.")
@click.option("--event-type", default="error", show_default=True, help="What kind of event raised it.")
@click.option("--flow", "flow_id", help="Flow id.")
@click.option("--triggered-by", help="Who raises it; default: your engine id.")
@pass_options
def alerts_send(
    options: Options,
    message: str,
    severity: str,
    project: str,
    event_type: str,
    flow_id: str | None,
    triggered_by: str | None,
) -> None:
    """Raise an alert with MESSAGE."""
    result = options.run(
        lambda cp: cp.monitoring.alert(
            project, message, severity=severity, event_type=event_type, triggered_by=triggered_by, flow_id=flow_id
        )
    )
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"alert {result.alert_id}: {'notified' if result.notified else 'stored, not notified'}")


for _command in alert_routes.COMMANDS:
    alerts.add_command(_command)

COMMANDS = [logs, errors, stats, overview, deployments, alerts]
