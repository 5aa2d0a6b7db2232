"""Environment Manager commands: env create, promote, rollback, compare, history, list."""

from __future__ import annotations

from typing import Any

import click

from puraify_client.cli import Options, output, pass_options


def _variables(pairs: tuple[str, ...]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{name or pair!r} is not NAME=VALUE", param_hint="--var")
        variables[name] = value
    return variables


def _show(options: Options, result: Any) -> None:
    data = output.plain(result)
    if options.as_json:
        output.emit_json(data)
    else:
        output.fields(data)


@click.group()
def env() -> None:
    """Environments of a project: create, promote, rollback, compare, history, list.

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
    rows = result.get("environments") or []
    columns = [c for c in ("env", "environment", "version", "config_revision", "updated_at", "expires_at")]
    present = [c for c in columns if any(c in row for row in rows)] or ["env", "version"]
    output.table(rows, present, empty="(no environments)")


@env.command("create")
@click.argument("project")
@click.argument("new_environment")
@click.option("--from", "base_from", help="Environment whose version and configuration to start from.")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help="Variable to set. Repeatable.")
@click.option("--preview", is_flag=True, help="A temporary preview environment that expires.")
@click.option("--ttl-hours", type=click.IntRange(1, 720), help="Preview lifetime (default 72).")
@pass_options
def env_create(
    options: Options,
    project: str,
    new_environment: str,
    base_from: str | None,
    pairs: tuple[str, ...],
    preview: bool,
    ttl_hours: int | None,
) -> None:
    """Create NEW_ENVIRONMENT in PROJECT.

    \b
    Example:
      puraify env create pf-777 staging --from development --var BASE_URL=https://staging.myapp.com
    """
    variables = _variables(pairs)
    _show(
        options,
        options.run(
            lambda cp: cp.env.create(
                project,
                new_environment,
                base_from=base_from,
                env_variables=variables,
                preview=preview or None,
                ttl_hours=ttl_hours,
            )
        ),
    )


@env.command("promote")
@click.argument("project")
@click.argument("source")
@click.argument("target")
@pass_options
def env_promote(options: Options, project: str, source: str, target: str) -> None:
    """Promote SOURCE's version into TARGET and show what changed. Never retried automatically.

    \b
    Example:
      puraify env promote pf-777 staging production
    """
    result = options.run(lambda cp: cp.env.promote(project, source, target))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    click.echo(f"{result.environment}: {result.version} ({result.status})")
    output.fields(output.plain(result.diff_from_previous))


@env.command("rollback")
@click.argument("project")
@click.argument("environment")
@click.argument("version")
@pass_options
def env_rollback(options: Options, project: str, environment: str, version: str) -> None:
    """Put ENVIRONMENT back to VERSION (its pointer and its configuration)."""
    _show(options, options.run(lambda cp: cp.env.rollback(project, environment, version)))


@env.command("compare")
@click.argument("project")
@click.argument("source")
@click.argument("target")
@pass_options
def env_compare(options: Options, project: str, source: str, target: str) -> None:
    """What differs between SOURCE and TARGET: variables (secrets masked), flags, versions."""
    _show(options, options.run(lambda cp: cp.env.compare(project, source, target)))


@env.command("history")
@click.argument("project")
@click.argument("environment")
@pass_options
def env_history(options: Options, project: str, environment: str) -> None:
    """Every version and configuration change of ENVIRONMENT, with who made it."""
    result = options.run(lambda cp: cp.env.history(project, environment))
    rows = [output.plain(h) for h in result.history]
    if options.as_json:
        output.emit_json(rows)
    else:
        output.table(rows, ["timestamp", "version", "created_by", "changes"], empty="(no history)")


COMMANDS = [env]
