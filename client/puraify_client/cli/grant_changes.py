"""``puraify engines changes``: grant changes waiting for a second admin (four-eyes on grants)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from puraify_client.cli import Options, output, pass_options
from puraify_client.errors import ApprovalPending

STATUSES = ("pending", "applying", "applied", "rejected", "expired", "failed")


def show(change: Any) -> None:
    click.echo(
        f"{change.change_id}: {change.kind} of {change.target} {change.status} (requested by {change.requested_by}"
        + (f", approved by {change.approved_by}" if change.approved_by else "")
        + ")"
    )
    if change.reason:
        click.echo(f"  reason: {change.reason}")
    simulation = change.simulation or {}
    if "replayed" in simulation:
        click.echo(
            f"  simulated on {simulation['replayed']} audited checks: {simulation['allow_to_deny']} allowed -> denied, "
            f"{simulation['deny_to_allow']} denied -> allowed"
        )


def run_or_pending(options: Options, work: Callable[[Any], Any]) -> Any:
    """Run ``work``; a grant change held for approval is printed (exit 0) and answers None."""
    try:
        return options.run(work)
    except ApprovalPending as pending:
        if options.as_json:
            output.emit_json({"status": "pending_approval", "change": output.plain(pending.change)})
        else:
            click.echo("pending_approval: another admin must approve this grant change")
            show(pending.change)
            click.echo(f"approve as another admin: puraify engines changes approve {pending.change_id}")
        return None


@click.group("changes")
def changes() -> None:
    """Grant changes waiting for a second admin: list, approve, reject (admin; four-eyes on grants)."""


@changes.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only changes in this status now.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="At most this many.")
@pass_options
def changes_list(options: Options, status: str | None, limit: int) -> None:
    """Grant changes, newest first, with their simulated effect."""
    found = options.first(lambda cp: cp.engines.iter_grant_changes(status=status, page_size=min(limit, 200)), limit)
    if options.as_json:
        output.emit_json(found)
        return
    rows = [{**c, "change": c["change_id"]} for c in found]
    output.table(rows, ["change", "kind", "target", "status", "requested_by", "approved_by", "expires_at"],
                 empty="(no grant changes)")  # fmt: skip


@changes.command("approve")
@click.argument("change_id")
@pass_options
def changes_approve(options: Options, change_id: str) -> None:
    """Apply CHANGE_ID as its requester asked (never your own request nor a change of your own grants).

    A registration's key is printed once here.
    """
    change = options.run(lambda cp: cp.engines.approve_grant_change(change_id))
    if options.as_json:
        output.emit_json(output.plain(change, reveal=True))
        return
    show(change)
    if change.engine_key:
        click.echo(f"engine_key: {change.engine_key}")
        click.echo("the key above is shown once and stored only as a hash. Keep it now.", err=True)


@changes.command("reject")
@click.argument("change_id")
@click.option("--reason", required=True, help="Why (kept with the change and audited).")
@pass_options
def changes_reject(options: Options, change_id: str, reason: str) -> None:
    """Reject CHANGE_ID: the grant change is never applied."""
    change = options.run(lambda cp: cp.engines.reject_grant_change(change_id, reason))
    if options.as_json:
        output.emit_json(output.plain(change))
    else:
        show(change)
