"""``puraify audit``: the ordered timeline of a project or one flow."""

from __future__ import annotations

import click

from puraify_client.cli import Options, output, pass_options

COLUMNS = ["timestamp", "kind", "engine_id", "platform", "action_type", "status", "reason"]


@click.command("audit")
@click.option("--project", required=True, help="Project id.")
@click.option("--flow", "flow_id", help="Only this flow.")
@click.option("--since", help="ISO 8601 time, epoch seconds, or a time ago: 1h, 24h, 7d.")
@pass_options
def audit(options: Options, project: str, flow_id: str | None, since: str | None) -> None:
    """The audit timeline of a project (or one flow): events, alerts and control-plane decisions, in order.

    \b
    Example:
      puraify audit --project pf_123 --flow lead_submit
    """
    result = options.run(lambda cp: cp.monitoring.audit(project, flow_id=flow_id, since=since))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    rows = [dict(entry) for entry in result.timeline]
    for row in rows:
        row.setdefault("engine_id", row.get("engine") or row.get("actor") or row.get("by"))
        row.setdefault("action_type", row.get("action"))
        # each row's state as of that row (an alert when raised, a deployment when it started or ended)
        row["status"] = row.get("status") or row.get("state")
        if row.get("reason") is None:
            row["reason"] = row.get("message")
    output.table(rows, COLUMNS, empty="(nothing recorded)", wrap=["reason"])
    if result.counts:
        click.echo("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items())))


COMMANDS = [audit]
