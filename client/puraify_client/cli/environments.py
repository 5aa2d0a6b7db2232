"""Environment Manager commands: env publish, version, resolved, list, create, promote, rollback, compare,
history, config."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import click

from puraify_client.cli import Options, changes, output, pass_options
from puraify_client.services.env import SecretInput


def _variables(pairs: tuple[str, ...]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{name or pair!r} is not NAME=VALUE", param_hint="--var")
        variables[name] = value
    return variables


@click.group()
def env() -> None:
    """Environments of a project: publish a version, create, promote, rollback, compare, history, config.

    Reading needs env:read; changing needs env:write, and production also env:production.
    """


@env.command("list")
@click.argument("project")
@pass_options
def env_list(options: Options, project: str) -> None:
    """PROJECT's environments with their version and configuration revision."""
    result = output.plain(options.run(lambda cp: cp.env.list(project)))
    if options.as_json:
        output.emit_json(result)
        return
    output.table(
        result["environments"],
        ["env", "version", "revision", "config_revision", "preview", "updated_at", "updated_by", "expires_at"],
        empty="(no environments)",
    )


@env.command("create")
@click.argument("project")
@click.argument("new_environment")
@click.option("--from", "base_from", help="Environment whose version and configuration to start from.")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help="Variable to set. Repeatable.")
@click.option(
    "--secret", "secrets", multiple=True, metavar="NAME=VALUE", help="Variable stored as a secret. Repeatable."
)
@click.option("--preview", is_flag=True, help="A temporary preview environment that expires.")
@click.option("--ttl-hours", type=click.IntRange(1, 720), help="Preview lifetime (default 72).")
@pass_options
def env_create(
    options: Options,
    project: str,
    new_environment: str,
    base_from: str | None,
    pairs: tuple[str, ...],
    secrets: tuple[str, ...],
    preview: bool,
    ttl_hours: int | None,
) -> None:
    """Create NEW_ENVIRONMENT in PROJECT.

    \b
    Example:
      puraify env create pf-777 staging --from development --var BASE_URL=https://staging.myapp.com
    """
    variables: dict[str, Any] = _variables(pairs)
    variables |= {name: SecretInput(value=value) for name, value in _variables(secrets).items()}
    output.show(
        options.run(
            lambda cp: cp.env.create(
                project,
                new_environment,
                base_from=base_from,
                env_variables=variables,
                preview=preview,
                ttl_hours=ttl_hours,
            )
        ),
        options.as_json,
    )


@env.command("publish")
@click.argument("project")
@click.argument("state_file", metavar="STATE_FILE", type=click.File("r"))
@click.option("--env", "environment", default="development", show_default=True, help="Environment published into.")
@click.option("--label", help="Version label such as v1.2.0 (default: the next one).")
@pass_options
def env_publish(options: Options, project: str, state_file: Any, environment: str, label: str | None) -> None:
    """Publish STATE_FILE (JSON: entities, flows, feature_flags; - for stdin) as PROJECT's next version.

    \b
    Example:
      puraify env publish pf-777 state.json --label v1.2.0
      echo '{"entities": ["Lead"]}' | puraify env publish pf-777 -
    """
    try:
        state = json.load(state_file)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="STATE_FILE") from None
    if not isinstance(state, dict):
        raise click.BadParameter("must be a JSON object", param_hint="STATE_FILE")
    result = options.run(lambda cp: cp.env.publish_version(project, state, environment=environment, label=label))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    verb = "published" if result.created else "unchanged (same content)"
    click.echo(f"{result.environment}: {verb} {result.version} (previous {output.cell(result.previous_version)})")
    output.fields(output.plain(result.changes))


@env.command("promote")
@click.argument("project")
@click.argument("source")
@click.argument("target")
@click.option("--expected-revision", type=click.IntRange(1), help="Fail (exit 6) unless TARGET is at this revision.")
@click.option(
    "--bake-seconds",
    type=click.IntRange(0),
    help="How long the deployment watch judges the new version (production bakes by default; 0: no watch).",
)
@click.option(
    "--wait",
    type=click.IntRange(1),
    metavar="SECONDS",
    help="When TARGET needs approvals: poll until the change ends (at most SECONDS); exit 0 only if applied.",
)
@pass_options
def env_promote(
    options: Options,
    project: str,
    source: str,
    target: str,
    expected_revision: int | None,
    bake_seconds: int | None,
    wait: int | None,
) -> None:
    """Promote SOURCE's version into TARGET and show what changed.

    Retried with one Idempotency-Key, so a retry never promotes twice. A gate denial exits 3
    and prints the gate's reasons and its decision_id. Into a TARGET that needs approvals the
    promotion waits as a change request: its id is printed, and another engine holding env:approve
    approves it (puraify env changes approve PROJECT CHANGE_ID). With --wait the command polls until
    the change ends: exit 0 applied, 3 denied by the gate or rejected, 1 expired or failed, 8 still
    pending when SECONDS ran out.

    \b
    Example:
      puraify env promote pf-777 staging production --bake-seconds 600
      puraify env promote pf-777 staging production --wait 3600
    """

    async def promote(cp: Any) -> Any:
        result = await cp.env.promote(
            project, source, target, expected_revision=expected_revision, bake_seconds=bake_seconds
        )
        if result.status != "pending_approval" or result.change_id is None:
            return result, None
        if not options.as_json:
            _pending(result)
        if not wait:
            return result, result.change
        return result, await cp.env.wait_for_change(project, target, result.change_id, timeout=wait)

    result, change = options.run(promote)
    if change is not None:
        if options.as_json:
            output.emit_json(output.plain(change))
        elif wait:
            changes.show(change)
        if wait:
            click.get_current_context().exit(changes.exit_code(change.status))
        return
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    click.echo(f"{result.environment}: {result.previous_version or '-'} -> {result.version} ({result.status})")
    output.fields(output.plain(result.diff_from_previous))
    if result.bake is not None:
        click.echo(f"baking until {result.bake.bake_ends_at} (puraify env deployment {project} {target} --wait)")


def _pending(result: Any) -> None:
    click.echo(
        f"{result.environment}: {result.previous_version or '-'} -> {result.version} (pending_approval: "
        f"{result.approvals_required} approval(s) needed, change {result.change_id}, expires {result.expires_at})"
    )
    output.fields(output.plain(result.diff_from_previous))
    click.echo(f"approve as another engine: puraify env changes approve {result.change.project_id} {result.change_id}")


@env.command("rollback")
@click.argument("project")
@click.argument("environment")
@click.argument("version")
@click.option("--force", is_flag=True, help="Admin: go to VERSION although it is not a rollback (needs --reason).")
@click.option("--reason", help="Why the rollback is forced (audited and alerted).")
@pass_options
def env_rollback(
    options: Options, project: str, environment: str, version: str, force: bool, reason: str | None
) -> None:
    """Put ENVIRONMENT back to VERSION (its pointer and its configuration).

    Only back: VERSION must be one it ran before its current one that no rollback left
    (`puraify env history` lists them). The gate judges every rollback (phase rollback).
    """
    if force and not reason:
        raise click.UsageError("--force needs --reason")
    result = options.run(lambda cp: cp.env.rollback(project, environment, version, force=force, reason=reason))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    forced = " forced" if result.forced else ""
    click.echo(
        f"{environment}: {result.previous_version or '-'} -> {result.environment.version} ({result.status}{forced})"
    )
    if result.gate is not None:
        click.echo(f"gate decision {result.gate.decision_id}" + "".join(f"\n  {r}" for r in result.gate.reasons))


@env.command("compare")
@click.argument("project")
@click.argument("source")
@click.argument("target")
@pass_options
def env_compare(options: Options, project: str, source: str, target: str) -> None:
    """What differs between SOURCE and TARGET: variables (secrets masked), flags, versions."""
    result = options.run(lambda cp: cp.env.compare(project, source, target))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    version = result.version
    click.echo(f"version: {version.source or '-'} ({source}) vs {version.target or '-'} ({target})")
    click.echo(
        f"entities added: {output.cell(version.entities_added)}; removed: {output.cell(version.entities_removed)}; "
        f"flows changed: {version.logic_changed}"
    )
    rows = [
        {"change": change, **output.plain(entry)}
        for change in ("added", "removed", "changed")
        for entry in getattr(result.variables, change)
    ]
    click.echo("")
    output.table(rows, ["change", "name", "secret", "source", "target"], empty="(same variables)")
    secrets = result.secrets
    if secrets.in_both and not secrets.values_compared:
        click.echo(f"secrets in both, values not compared (needs env:secrets): {', '.join(secrets.in_both)}")
    click.echo("")
    output.table([output.plain(f) for f in result.feature_flags], ["name", "source", "target"], empty="(same flags)")


@env.command("history")
@click.argument("project")
@click.argument("environment")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="Newest entries shown.")
@pass_options
def env_history(options: Options, project: str, environment: str, limit: int) -> None:
    """Every version and configuration change of ENVIRONMENT, newest first, with who made it."""

    rows = options.first(lambda cp: cp.env.iter_history(project, environment, page_size=min(limit, 100)), limit)
    if options.as_json:
        output.emit_json(rows)
        return
    for row in rows:
        row["changes"] = {k: v for k, v in (row.get("changes") or {}).items() if v}
    output.table(rows, ["revision", "timestamp", "action", "version", "created_by", "changes"], empty="(no history)")


@env.command("config")
@click.argument("project")
@click.argument("environment")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help="Set a variable. Repeatable.")
@click.option("--secret", "secrets", multiple=True, metavar="NAME=VALUE", help="Set a secret variable. Repeatable.")
@click.option("--unset", multiple=True, metavar="NAME", help="Remove a variable. Repeatable.")
@click.option("--flag", "flag_pairs", multiple=True, metavar="NAME=on|off", help="Set a flag. Repeatable.")
@click.option("--expected-revision", type=click.IntRange(1), help="Fail (exit 6) unless at this revision.")
@click.option(
    "--approvals",
    type=int,
    help="How many other engines must approve a promotion into it (0-5; 1 recommended for production).",
)
@pass_options
def env_config(
    options: Options,
    project: str,
    environment: str,
    pairs: tuple[str, ...],
    secrets: tuple[str, ...],
    unset: tuple[str, ...],
    flag_pairs: tuple[str, ...],
    expected_revision: int | None,
    approvals: int | None,
) -> None:
    """Change ENVIRONMENT's variables or flags, or the approvals a promotion into it needs.

    \b
    Example:
      puraify env config pf-777 staging --var BASE_URL=https://stg.myapp.com --flag BETA_FORM=on
      puraify env config pf-777 production --approvals 1
    """
    variables: dict[str, Any] = {**_variables(pairs), **{name: None for name in unset}}
    variables |= {name: SecretInput(value=value) for name, value in _variables(secrets).items()}
    flags: dict[str, bool | None] = {}
    for name, value in _variables(flag_pairs).items():
        if value not in ("on", "off"):
            raise click.BadParameter(f"{name}={value}: use on or off", param_hint="--flag")
        flags[name] = value == "on"
    result = options.run(
        lambda cp: cp.env.set_config(
            project,
            environment,
            env_variables=variables,
            feature_flags=flags,
            expected_revision=expected_revision,
            approvals_required=approvals,
        )
    )
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{environment}: {result.status}, configuration revision {result.environment.config_revision}")


COMMANDS = [env]
env.add_command(changes.changes, "changes")


@env.command("version")
@click.argument("project")
@click.argument("label")
@pass_options
def env_version(options: Options, project: str, label: str) -> None:
    """One version of PROJECT by LABEL: its metadata and state."""
    result = options.run(lambda cp: cp.env.version(project, label))
    output.show(result, options.as_json)


@env.command("resolved")
@click.argument("project")
@click.argument("environment")
@pass_options
def env_resolved(options: Options, project: str, environment: str) -> None:
    """What should run in ENVIRONMENT: its version, state and configuration.

    Secret values are shown only to engines holding env:secrets (each such read is audited).
    """
    result = options.run(lambda cp: cp.env.resolved(project, environment))
    if options.as_json or result is None:
        output.emit_json(output.plain(result, reveal=True))
        return
    click.echo(f"{environment}: {result.version or '-'} (revision {result.revision}, secrets {result.secrets})")
    output.table(
        [{"name": name, "value": v.value, "secret": v.secret} for name, v in sorted(result.variables.items())],
        ["name", "value", "secret"],
        empty="(no variables)",
    )
    output.fields({"feature_flags": result.feature_flags, "etag": result.etag})


@env.command("deployment")
@click.argument("project")
@click.argument("environment")
@click.option("--wait", type=click.IntRange(1), metavar="SECONDS", help="Poll until the bake ends (at most SECONDS).")
@pass_options
def env_deployment(options: Options, project: str, environment: str, wait: int | None) -> None:
    """ENVIRONMENT's latest deployment: its state (baking, healthy, rolled_back, ...) and the watch's decisions.

    With --wait, exits 0 when it ends healthy or deployed, 1 otherwise (rolled back, no signal, ...).
    """

    async def poll(cp: Any) -> Any:
        found = await cp.env.deployment(project, environment)
        deadline = time.monotonic() + (wait or 0)
        while wait and not found.settled and time.monotonic() < deadline:
            await asyncio.sleep(min(5.0, max(0.1, deadline - time.monotonic())))
            found = await cp.env.deployment(project, environment)
        return found

    result = options.run(poll)
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(
            f"{environment}: {result.version} ({result.action} by {result.actor}) {result.state}"
            + (f": {result.reason}" if result.reason else "")
        )
        if result.bake_ends_at:
            click.echo(
                f"bake: {result.bake_seconds} s until {result.bake_ends_at}; finished {result.finished_at or '-'}"
            )
        output.table(
            [{"at": d.at, "verdict": d.verdict, "reasons": "; ".join(d.reasons or d.notes)} for d in result.decisions],
            ["at", "verdict", "reasons"],
            empty="(no decisions yet)",
        )
    if wait and result.state not in ("healthy", "deployed"):
        raise SystemExit(1)
