"""Planning Engine commands: plan decide, decisions, facts, policy, publish."""

from __future__ import annotations

from pathlib import Path

import click

from puraify_client.cli import Options, output, pass_options
from puraify_client.services.plan import bundle_paths, read_bundle


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
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True, help="Decisions shown.")
@pass_options
def plan_decisions(
    options: Options, deployment_id: str | None, project_id: str | None, since: str | None, limit: int
) -> None:
    """The decision audit, newest first."""
    if not deployment_id and not project_id:
        raise click.UsageError("give --deployment or --project")

    rows = options.first(
        lambda cp: cp.plan.iter_decisions(deployment_id=deployment_id, project_id=project_id, since=since, limit=limit),
        limit,
    )
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
    click.echo(f"snapshot {result.get('scope') or '-'} collected {result.get('collected_at') or 'never'}")
    rows = [{"fact": name, **fact} for name, fact in (result.get("facts") or {}).items()]
    output.table(rows, ["fact", "value", "age_seconds", "stale", "source", "error"], empty="(no facts)")


@plan.command("policy")
@pass_options
def plan_policy(options: Options) -> None:
    """The active policy bundle (revision, digest, load time) and the last rejected one."""
    result = output.plain(options.run(lambda cp: cp.plan.policy()))
    if options.as_json:
        output.emit_json(result)
        return
    rejected = result.pop("last_rejected", None)
    output.fields({k: v for k, v in result.items() if k != "files"})
    if rejected:
        click.echo(
            f"last rejected: {rejected.get('revision') or '-'} at {rejected.get('rejected_at')}: {rejected['reason']}"
        )


@plan.command("publish")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--revision", help="Bundle revision; default: bundle.json's, else one named by the content digest.")
@pass_options
def plan_publish(options: Options, folder: Path, revision: str | None) -> None:
    """Publish the policy bundle in FOLDER and make it active (admin).

    FOLDER holds the *.rego files (*_test.rego are left out), data.json, and optionally
    bundle.json with {"revision": ..., "entrypoint": ...}. A bundle that would not compile is
    refused (exit 7) and the active one stays.

    \b
    Example:
      puraify plan publish policies/gate --revision gate-2
    """
    paths = bundle_paths(folder)
    if not paths:
        raise click.UsageError(f"{folder} has no .rego files or data.json")
    texts = {}
    for done, path in enumerate(paths, 1):
        output.status_line(f"reading {path.name} ({done}/{len(paths)})")
        texts[path.name] = path.read_text()
    output.status_line(f"publishing {len(paths)} files ...\n")
    bundle = read_bundle(folder, texts, revision)
    result = options.run(lambda cp: cp.plan.publish(bundle))
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        state = "published" if result.created else "already published, made active"
        click.echo(f"{result.revision}: {state} (sha256 {result.sha256[:12]}, entrypoint {result.entrypoint})")


COMMANDS = [plan]
