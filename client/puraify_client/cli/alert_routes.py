"""Alert routing commands: ``alerts routes get|set``, ``alerts silence|unsilence|silences``, ``alerts show``."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from puraify_client.cli import Options, output, pass_options

SILENCE_COLUMNS = ["silence_id", "active", "starts_at", "ends_at", "match", "reason", "created_by"]
DELIVERY_COLUMNS = ["event", "route", "channel", "target", "status", "attempts", "last_status_code", "last_error",
                    "delivered_at"]  # fmt: skip
_DURATION = re.compile(r"^(\d+)([smhd])$")


@click.group("routes")
def routes() -> None:
    """Where a project's alerts go: ordered routes of matchers and channels (needs alerts:manage)."""


@routes.command("get")
@click.option("--project", required=True, help="Project id (* for the routes that follow every project's).")
@pass_options
def routes_get(options: Options, project: str) -> None:
    """Print the project's routes as JSON (secrets masked), ready to edit and give to ``routes set``.

    \b
    Example:
      puraify alerts routes get --project pf_123 > routes.json
    """
    result = options.run(lambda cp: cp.monitoring.routes(project))
    output.emit_json({"routes": result.routes} if not options.as_json else output.plain(result))


def _load(path: str) -> list[dict[str, Any]]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except ValueError:
            import yaml

            data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("routes"), list):
        return list(data["routes"])
    if isinstance(data, list):
        return data
    raise click.BadParameter('a JSON or YAML file holding {"routes": [...]} or a list of routes', param_hint="FILE")


@routes.command("set")
@click.argument("file")
@click.option("--project", required=True, help="Project id (* for every project: admin only).")
@pass_options
def routes_set(options: Options, file: str, project: str) -> None:
    """Replace the project's routes with those in FILE (JSON or YAML; - for stdin).

    A masked secret left as ``routes get`` printed it keeps the stored secret.

    \b
    Example (routes.yaml):
      routes:
        - name: critical to on-call
          match: {severity: [critical]}
          channels:
            - {type: pagerduty, routing_key: R0123456789abcdef0123456789abcd}
            - {type: webhook, url: "https://hooks.example.com/puraify", secret: "whsec_..."}
      puraify alerts routes set --project pf_123 routes.yaml
    """
    found = _load(file)
    result = options.run(lambda cp: cp.monitoring.set_routes(project, found))
    output.say(result, options.as_json, f"{len(result.routes)} route(s) saved for {result.project_id}")


def _match(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value:
            raise click.BadParameter(f"{pair!r}: use FIELD=VALUE (e.g. severity=critical)", param_hint="--match")
        found.setdefault(name.strip(), []).extend(v.strip() for v in value.split(","))
    return found


def _until(duration: str | None, until: str | None) -> str:
    if until:
        return until
    matched = _DURATION.match(duration or "")
    if not matched:
        raise click.BadParameter("give --for (30m, 2h, 1d) or --until (ISO 8601)", param_hint="--for")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[matched.group(2)]
    return (datetime.now(UTC) + timedelta(**{unit: int(matched.group(1))})).isoformat()


@click.command("silence")
@click.option("--project", required=True, help="Project id (* for every project: admin only).")
@click.option("--match", "pairs", multiple=True, help="FIELD=VALUE[,VALUE] (severity, platform, engine, "
              "environment, error_type, kind); repeat for more fields. None: every alert.")  # fmt: skip
@click.option("--for", "duration", help="How long from now: 30m, 2h, 1d.")
@click.option("--until", help="When it ends (ISO 8601 with offset), instead of --for.")
@click.option("--starts", help="When it starts (ISO 8601 with offset); default now.")
@click.option("--reason", required=True, help="Why (shown with the silence and on silenced alerts).")
@pass_options
def silence(options: Options, project: str, pairs: tuple[str, ...], duration: str | None, until: str | None,
            starts: str | None, reason: str) -> None:  # fmt: skip
    """Hold back a project's matching alerts: they are still stored, listed and counted, but not sent.

    \b
    Example:
      puraify alerts silence --project pf_123 --match platform=slack --for 2h --reason "Slack maintenance"
    """
    ends = _until(duration, until)
    match = _match(pairs)
    result = options.run(lambda cp: cp.monitoring.silence(project, ends, reason, match=match, starts_at=starts))
    output.say(result, options.as_json, f"silence {result.silence_id}: {result.starts_at} .. {result.ends_at}")


@click.command("unsilence")
@click.argument("silence_id")
@pass_options
def unsilence(options: Options, silence_id: str) -> None:
    """End SILENCE_ID now: matching alerts are sent again from then on (needs alerts:manage)."""
    options.run(lambda cp: cp.monitoring.unsilence(silence_id))
    if options.as_json:
        output.emit_json({"silence_id": silence_id, "deleted": True})
    else:
        click.echo(f"silence {silence_id}: ended")


@click.command("silences")
@click.option("--project", required=True, help="Project id (* for every project's).")
@pass_options
def silences(options: Options, project: str) -> None:
    """A project's silences, current and ended."""
    result = options.run(lambda cp: cp.monitoring.silences(project))
    rows = [output.plain(s) for s in result.silences]
    if options.as_json:
        output.emit_json(rows)
    else:
        output.table(rows, SILENCE_COLUMNS, empty="(no silences)")


@click.command("deliveries")
@click.argument("alert_id")
@pass_options
def deliveries(options: Options, alert_id: str) -> None:
    """Where ALERT_ID's notifications went: channel, status, attempts, last status code and error."""
    result = options.run(lambda cp: cp.monitoring.deliveries(alert_id))
    rows = [output.plain(d) for d in result]
    if options.as_json:
        output.emit_json(rows)
    else:
        output.table(rows, DELIVERY_COLUMNS, empty="(no routed deliveries: the default channels, or none)")


@click.command("show")
@click.argument("alert_id")
@pass_options
def show(options: Options, alert_id: str) -> None:
    """ALERT_ID in full, with where its notifications went (needs logs:read and its project)."""
    result = output.plain(options.run(lambda cp: cp.monitoring.get_alert(alert_id)))
    if options.as_json:
        output.emit_json(result)
        return
    found = result.pop("deliveries", None) or []
    output.fields({k: v for k, v in result.items() if k not in ("history", "details")})
    click.echo("")
    output.table(found, DELIVERY_COLUMNS, empty="(no routed deliveries: the default channels, or none)")


COMMANDS = [routes, silence, unsilence, silences, deliveries, show]
