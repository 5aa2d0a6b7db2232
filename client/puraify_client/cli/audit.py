"""``puraify audit``: the ordered timeline of a project or one flow; one engine's checks; the admin changes."""

from __future__ import annotations

import click

from puraify_client.cli import Options, output, pass_options

COLUMNS = ["timestamp", "kind", "engine_id", "platform", "action_type", "status", "reason"]


ENGINE_COLUMNS = ["timestamp", "project_id", "platform", "action_type", "allowed", "rule", "reason", "request_id"]
ADMIN_COLUMNS = ["timestamp", "by", "operation", "target", "status", "before", "after"]


@click.command("audit")
@click.option("--project", help="Project id: its timeline (or, with --engine, only its checks).")
@click.option("--flow", "flow_id", help="Only this flow.")
@click.option(
    "--engine", "engine_id", help="One engine's check decisions, newest first (with --admin: by or about it)."
)
@click.option("--admin", "admin_changes", is_flag=True, help="The admin changes: who, what, target, before, after.")
@click.option("--since", help="ISO 8601 time, epoch seconds, or a time ago: 1h, 24h, 7d.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="With --engine/--admin.")
@click.option("--cursor", help="With --engine/--admin: the next_cursor of the previous page.")
@pass_options
def audit(
    options: Options,
    project: str | None,
    flow_id: str | None,
    engine_id: str | None,
    admin_changes: bool,
    since: str | None,
    limit: int,
    cursor: str | None,
) -> None:
    """The audit timeline of a project (or one flow): events, alerts and control-plane decisions, in order;
    or one engine's check decisions (--engine), or the admin changes (--admin).

    \b
    Example:
      puraify audit --project pf_123 --flow lead_submit
      puraify audit --engine mailer
      puraify audit --admin
    """
    if engine_id is not None or admin_changes:
        _view(options, project, engine_id, admin_changes, since, limit, cursor)
        return
    if project is None:
        raise click.UsageError("name --project, --engine or --admin")
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
        reasons = (row.get("details") or {}).get("reasons") if isinstance(row.get("details"), dict) else None
        if not row.get("reason") and reasons:  # a gate denial recorded before its reason was
            row["reason"] = "; ".join(str(r) for r in reasons)
    output.table(rows, COLUMNS, empty="(nothing recorded)")
    if result.counts:
        click.echo("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items())))


def _view(
    options: Options,
    project: str | None,
    engine_id: str | None,
    admin_changes: bool,
    since: str | None,
    limit: int,
    cursor: str | None,
) -> None:
    if admin_changes:
        result = options.run(
            lambda cp: cp.monitoring.admin_audit(engine_id=engine_id, since=since, limit=limit, cursor=cursor)
        )
        rows, columns = result.changes, ADMIN_COLUMNS
    else:
        assert engine_id is not None
        result = options.run(
            lambda cp: cp.monitoring.engine_audit(
                engine_id, project_id=project, since=since, limit=limit, cursor=cursor
            )
        )
        rows, columns = result.decisions, ENGINE_COLUMNS
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    output.table(rows, columns, empty="(nothing recorded)")
    if result.next_cursor:
        click.echo(f"\nmore: --cursor {result.next_cursor}")


COMMANDS = [audit]
