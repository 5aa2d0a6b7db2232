"""Planning Engine commands: plan decide, decisions, facts, policy, publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from puraify_client.cli import Options, output, pass_options
from puraify_client.client import ControlPlane


@click.group()
def plan() -> None:
    """Deployment gate: decide, read the decision audit, facts and policy, publish a bundle."""


@plan.command("decide")
@click.argument("deployment_id")
@click.argument("environment")
@click.option("--project", "project_id", required=True, help="Project id.")
@pass_options
def plan_decide(options: Options, deployment_id: str, environment: str, project_id: str) -> None:
    """May DEPLOYMENT_ID go to ENVIRONMENT now? Exit code 0 if allowed, 3 if denied.

    \b
    Example:
      puraify plan decide deployment-123 production --project pf-777 || echo blocked
    """
    result = options.run(lambda cp: cp.plan.decide(deployment_id, environment, project_id))
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{'allow' if result.allow else 'deny'}: {deployment_id} -> {environment} ({result.decision_id})")
        for reason in result.deny_reasons:
            click.echo(f"  - {reason}")
        if result.policy.revision:
            click.echo(f"policy {result.policy.revision} ({(result.policy.sha256 or '')[:12]})")
    if not result.allow:
        raise click.exceptions.Exit(output.DENIED)


@plan.command("decisions")
@click.option("--deployment", "deployment_id", help="One deployment's decisions.")
@click.option("--project", "project_id", help="One project's decisions.")
@click.option("--since", help="ISO 8601 time.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@pass_options
def plan_decisions(
    options: Options, deployment_id: str | None, project_id: str | None, since: str | None, limit: int
) -> None:
    """The decision audit, newest first."""
    if not deployment_id and not project_id:
        raise click.UsageError("give --deployment or --project")

    async def fetch(cp: ControlPlane) -> list[dict[str, Any]]:
        found = []
        async for decision in cp.plan.iter_decisions(deployment_id=deployment_id, project_id=project_id, since=since):
            found.append(output.plain(decision))
            if len(found) >= limit:
                break
        return found

    rows = options.run(fetch)
    if options.as_json:
        output.emit_json(rows)
        return
    for row in rows:
        row["revision"] = (row.get("policy") or {}).get("revision")
    output.table(
        rows,
        ["evaluated_at", "deployment_id", "environment", "allow", "deny_reasons", "revision", "decision_id"],
        empty="(no decisions)",
    )


@plan.command("facts")
@pass_options
def plan_facts(options: Options) -> None:
    """The latest fact snapshot with each fact's age and staleness."""
    result = output.plain(options.run(lambda cp: cp.plan.facts()))
    if options.as_json:
        output.emit_json(result)
        return
    facts = result.get("facts")
    if isinstance(facts, dict):
        rows = [{"id": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in facts.items()]
    else:
        rows = [f if isinstance(f, dict) else {"value": f} for f in facts or []]
    columns = ["id", "value", "age_seconds", "stale", "error"]
    output.table(rows, [c for c in columns if any(c in r for r in rows)] or ["id", "value"], empty="(no facts)")


@plan.command("policy")
@pass_options
def plan_policy(options: Options) -> None:
    """The active policy bundle (revision, digest, load time) and the last rejected one."""
    result = output.plain(options.run(lambda cp: cp.plan.policy()))
    if options.as_json:
        output.emit_json(result)
    else:
        output.fields(result)


@plan.command("publish")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--revision", help="Bundle revision; default: chosen by the control plane.")
@pass_options
def plan_publish(options: Options, folder: Path, revision: str | None) -> None:
    """Publish the policy bundle in FOLDER (.rego files and data.json) as the active bundle (admin).

    \b
    Example:
      puraify plan publish policies/gate --revision 2025-07-25.1
    """
    from puraify_client.services.plan import bundle_files

    files = bundle_files(folder)
    with click.progressbar(files, label=f"reading {len(files)} files", file=click.get_text_stream("stderr")) as bar:
        contents = {name: path.read_text() for name, path in bar}
    result = options.run(lambda cp: cp.plan.publish(contents, revision=revision))
    data = output.plain(result)
    if options.as_json:
        output.emit_json(data)
    else:
        output.fields(data)


COMMANDS = [plan]
