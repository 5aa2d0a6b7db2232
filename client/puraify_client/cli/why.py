"""``puraify engines capabilities`` (what an engine may do now) and ``puraify simulate`` (what a change would flip)."""

from __future__ import annotations

from typing import Any

import click

from puraify_client.cli import Options, output, pass_options
from puraify_client.cli.engine_control import _permissions, engines


@engines.command("capabilities")
@click.argument("engine_id", required=False)
@click.option("--project", "project_id", help="Evaluate the engine's grant of this project too.")
@pass_options
def engines_capabilities(options: Options, engine_id: str | None, project_id: str | None) -> None:
    """Every platform and action ENGINE_ID holds (default: yourself), allowed now or not, and why.

    \b
    Example:
      puraify engines capabilities mailer --project shop
    """
    found = options.run(lambda cp: cp.engines.capabilities(engine_id, project_id=project_id))
    rows = [output.plain(c) for c in found]
    if options.as_json:
        output.emit_json(rows)
        return
    output.table(rows, ["platform", "action_type", "allowed", "rule", "reason", "required_scopes"],
                 empty="(holds no action)")  # fmt: skip


@click.command("simulate")
@click.option("--engine", "engine_id", help="The engine whose access changes.")
@click.option("-p", "--permission", "pairs", multiple=True, metavar="PLATFORM:ACTION",
              help="With --engine: its new permissions (replace them). Repeatable.")  # fmt: skip
@click.option("--no-permissions", is_flag=True, help="With --engine: it would hold no action at all.")
@click.option("-s", "--scope", "scopes", multiple=True, help="With --engine: its new scopes. Repeatable.")
@click.option("--project", "projects", multiple=True, help="With --engine: its new project grants. Repeatable.")
@click.option("--platform", "platform_specs", multiple=True, metavar="NAME=STATUS",
              help="A platform's new status (available, maintenance, disabled). Repeatable.")  # fmt: skip
@click.option("--flag", "flag_specs", multiple=True, metavar="NAME=on|off", help="A flag switched. Repeatable.")
@click.option("--since", help="Window start (ISO 8601 or epoch seconds); default 24 h before --until.")
@click.option("--until", help="Window end; default now. The window is at most 7 days.")
@pass_options
def simulate(
    options: Options,
    engine_id: str | None,
    pairs: tuple[str, ...],
    no_permissions: bool,
    scopes: tuple[str, ...],
    projects: tuple[str, ...],
    platform_specs: tuple[str, ...],
    flag_specs: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> None:
    """Which audited checks of the window a change would flip (admin). Nothing is changed.

    \b
    Example:
      puraify simulate --engine mailer -p gmail:read_email
      puraify simulate --platform gmail=maintenance --since 2026-12-01T00:00:00Z
      puraify simulate --flag gmail_send=off
    """
    engine: dict[str, Any] | None = None
    if engine_id is not None:
        engine = {"engine_id": engine_id}
        if pairs or no_permissions:
            engine["permissions"] = _permissions(pairs)
        if scopes:
            engine["scopes"] = list(scopes)
        if projects:
            engine["projects"] = list(projects)
    elif pairs or scopes or projects or no_permissions:
        raise click.UsageError("--permission, --scope, --project and --no-permissions need --engine")
    platforms = dict(_pair(spec, "--platform") for spec in platform_specs)
    flags = {name: _switch(value) for name, value in (_pair(spec, "--flag") for spec in flag_specs)}
    if engine is None and not platforms and not flags:
        raise click.UsageError("name a change: --engine, --platform or --flag")
    result = options.run(
        lambda cp: cp.actions.simulate(engine=engine, platforms=platforms, flags=flags, since=since, until=until)
    )
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    click.echo(
        f"replayed {result.replayed} checks from {result.since} to {result.until}: {result.allow_to_deny} allowed -> "
        f"denied, {result.deny_to_allow} denied -> allowed, {result.unchanged} unchanged"
        + (f" (truncated at {result.max_records} records)" if result.truncated else "")
    )
    if result.by_action:
        click.echo()
        output.table([output.plain(f) for f in result.by_action],
                     ["platform", "action_type", "project_id", "allow_to_deny", "deny_to_allow"])  # fmt: skip
    if result.examples:
        click.echo("\nexamples:")
        columns = ["timestamp", "engine_id", "platform", "action_type", "before", "after", "rule", "request_id"]
        output.table([output.plain(x) for x in result.examples], columns)


def _pair(spec: str, option: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep or not name or not value:
        raise click.BadParameter(f"{spec!r} is not NAME=VALUE", param_hint=option)
    return name, value


def _switch(value: str) -> bool:
    if value not in ("on", "off"):
        raise click.BadParameter(f"{value!r}: on or off", param_hint="--flag")
    return value == "on"


COMMANDS = [simulate]
