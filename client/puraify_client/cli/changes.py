"""``puraify env changes``: list, approve and reject the promotions waiting for approval (env:approve)."""

from __future__ import annotations

from typing import Any

import click

from puraify_client.cli import Options, output, pass_options

STATUSES = ("pending", "applying", "applied", "denied", "rejected", "expired", "failed")
# How `puraify env promote --wait` ends, by the change's last status (documented in its help).
EXIT_CODES = {"applied": 0, "denied": 3, "rejected": 3, "expired": 1, "failed": 1}
STILL_PENDING = 8


def exit_code(status: str) -> int:
    return EXIT_CODES.get(status, STILL_PENDING)


def show(change: Any) -> None:
    """One change: its status, who asked and approved, and how it ended."""
    approvals = ", ".join(a.engine_id for a in change.approvals) or "none"
    click.echo(
        f"{change.change_id}: {change.environment} {change.previous_version or '-'} -> {change.version} "
        f"{change.status} (requested by {change.requested_by}; approvals {len(change.approvals)}/"
        f"{change.approvals_required}: {approvals})"
    )
    if change.reason:
        click.echo(f"  reason: {change.reason}")
    for reason in change.reasons:
        click.echo(f"  gate: {reason}")


@click.group("changes")
def changes() -> None:
    """Promotions waiting for approval: list, approve, reject (needs env:approve and the project's grant)."""


@changes.command("list")
@click.argument("project")
@click.option("--status", type=click.Choice(STATUSES), help="Only changes in this status now.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="At most this many.")
@pass_options
def changes_list(options: Options, project: str, status: str | None, limit: int) -> None:
    """PROJECT's change requests, newest first."""
    found = options.first(lambda cp: cp.env.iter_changes(project, status=status, page_size=min(limit, 200)), limit)
    if options.as_json:
        output.emit_json(found)
        return
    rows = [
        {**c, "approvals": f"{len(c['approvals'])}/{c['approvals_required']}", "change": c["change_id"]} for c in found
    ]
    output.table(
        rows,
        ["change", "environment", "version", "status", "requested_by", "approvals", "expires_at", "reason"],
        empty="(no changes)",
    )


@changes.command("approve")
@click.argument("project")
@click.argument("change_id")
@pass_options
def changes_approve(options: Options, project: str, change_id: str) -> None:
    """Approve CHANGE_ID of PROJECT; the approval that reaches the count runs the promotion.

    You cannot approve a change you requested (exit 4, self_approval). Exit 3 when the gate then
    denied the promotion.
    """
    change = options.run(lambda cp: cp.env.approve_change(project, change_id))
    if options.as_json:
        output.emit_json(output.plain(change))
    else:
        show(change)
    if change.status == "denied":
        click.get_current_context().exit(3)


@changes.command("reject")
@click.argument("project")
@click.argument("change_id")
@click.option("--reason", required=True, help="Why (kept with the change and audited).")
@pass_options
def changes_reject(options: Options, project: str, change_id: str, reason: str) -> None:
    """Reject CHANGE_ID of PROJECT: the promotion never runs."""
    change = options.run(lambda cp: cp.env.reject_change(project, change_id, reason))
    if options.as_json:
        output.emit_json(output.plain(change))
    else:
        show(change)
