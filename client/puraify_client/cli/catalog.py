"""Catalog commands: platforms (status, maintenance windows), flags (and their schedule), health, config."""

from __future__ import annotations

from typing import Any

import click

from puraify_client import errors as e
from puraify_client.cli import Options, output, pass_options


@click.group()
def platforms() -> None:
    """The platform catalog: list platforms, add one, set a platform's status."""


@platforms.command("list")
@pass_options
def platforms_list(options: Options) -> None:
    """Every platform with its status, API version and actions."""
    result = options.run(lambda cp: cp.platforms.list())
    rows = [output.plain(p) for p in result]
    if options.as_json:
        output.emit_json(rows)
        return
    for row in rows:
        row["actions"] = sorted(row.get("actions") or {})
    output.table(rows, ["name", "status", "api_version", "actions", "updated_at"])


def _actions(specs: tuple[str, ...]) -> dict[str, list[str]]:
    actions: dict[str, list[str]] = {}
    for spec in specs:
        action, _, scopes = spec.partition(":")
        if not action:
            raise click.BadParameter(f"{spec!r} is not ACTION[:SCOPE,SCOPE]", param_hint="--action")
        actions[action] = [scope for scope in scopes.split(",") if scope]
    return actions


@platforms.command("add")
@click.argument("name")
@click.option("-a", "--action", "specs", multiple=True, required=True, metavar="ACTION[:SCOPE,...]",
              help="An action and the OAuth scopes it needs, e.g. send_email:mail.send. Repeatable.")  # fmt: skip
@click.option("--api-version", default="v1", show_default=True, help="The platform's API version.")
@click.option("--status", type=click.Choice(["available", "maintenance", "disabled"]), default="available",
              show_default=True, help="Initial status.")  # fmt: skip
@click.option("--replace", is_flag=True, help="Replace the platform if it exists (default: exit 6).")
@pass_options
def platforms_add(
    options: Options, name: str, specs: tuple[str, ...], api_version: str, status: str, replace: bool
) -> None:
    """Add platform NAME to the catalog with its actions (admin); engines may then be granted them.

    \b
    Example:
      puraify platforms add hubspot -a create_contact:crm.objects.contacts.write -a read_contact
    """
    actions = _actions(specs)

    async def add(cp: Any) -> Any:
        if not replace and name in {p.name for p in await cp.platforms.list()}:
            raise e.ConflictError(409, f"platform '{name}' already exists; --replace replaces it",
                                  error_code="platform_exists")  # fmt: skip
        return await cp.platforms.put(name, status=status, api_version=api_version, actions=actions)

    result = options.run(add)
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(
            f"{result.name}: {result.status}, {result.api_version}, actions {output.cell(sorted(result.actions))}"
        )


@platforms.command("set-status")
@click.argument("name")
@click.argument("status", type=click.Choice(["available", "maintenance", "disabled"]))
@pass_options
def platforms_set_status(options: Options, name: str, status: str) -> None:
    """Set platform NAME to STATUS (admin); its actions and API version are kept."""
    result = options.run(lambda cp: cp.platforms.set_status(name, status))
    output.say(result, options.as_json, f"{result.name}: {result.status}")


@platforms.group("maintenance")
def maintenance() -> None:
    """Scheduled maintenance windows: checks of the platform are denied from start to end."""


@maintenance.command("add")
@click.argument("name")
@click.option("--start", "starts_at", required=True, help="ISO-8601 with a zone, e.g. 2026-12-08T02:00:00Z.")
@click.option("--end", "ends_at", required=True, help="ISO-8601 with a zone; denied until just before it.")
@click.option("--reason", required=True, help="Given as the reason of every check denied during the window.")
@pass_options
def maintenance_add(options: Options, name: str, starts_at: str, ends_at: str, reason: str) -> None:
    """Schedule a maintenance window of platform NAME (admin)."""
    result = options.run(lambda cp: cp.platforms.add_window(name, starts_at, ends_at, reason))
    output.say(
        result, options.as_json, f"{name}: maintenance {result.starts_at} -> {result.ends_at} ({result.window_id})"
    )


@maintenance.command("list")
@click.argument("name")
@pass_options
def maintenance_list(options: Options, name: str) -> None:
    """Platform NAME's windows that have not ended."""
    result = options.run(lambda cp: cp.platforms.windows(name))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    rows = [output.plain(w) for w in result.windows]
    output.table(rows, ["window_id", "starts_at", "ends_at", "active", "reason", "created_by"], empty="(no windows)")


@maintenance.command("cancel")
@click.argument("name")
@click.argument("window_id")
@pass_options
def maintenance_cancel(options: Options, name: str, window_id: str) -> None:
    """Cancel window WINDOW_ID of platform NAME (admin)."""
    result = options.run(lambda cp: cp.platforms.cancel_window(name, window_id))
    output.say(
        result, options.as_json, f"{name}: cancelled {result.window_id} ({result.starts_at} -> {result.ends_at})"
    )


FLAG_RULE = """\b
One rule for every flag: on (enabled) means what it targets may run; off switches it off.
  A flag targets a catalog platform (--platform) or one of its actions (--platform --action):
  off, every check of it is denied (rule flag_disabled).
  The only flag without a target is "deployments", the deployment gate's: off is a change
  freeze, so deployments into protected environments (production) are denied.
"""


@click.group(epilog=FLAG_RULE)
def flags() -> None:
    """Feature flags: list them, switch one on or off."""


@flags.command("list")
@pass_options
def flags_list(options: Options) -> None:
    """Every feature flag and what it targets."""
    result = options.run(lambda cp: cp.config.flags())
    rows = [output.plain(f) for f in result.values()]
    if options.as_json:
        output.emit_json(rows)
    else:
        output.table(rows, ["name", "enabled", "platform", "action_type", "description", "updated_at"])


@flags.command("set", epilog=FLAG_RULE)
@click.argument("name")
@click.option("--on/--off", "enabled", required=True, help="On: the target may run. Off: it is stopped.")
@click.option("--platform", help="The catalog platform it targets (all flags but 'deployments' need one).")
@click.option("--action", "action_type", help="Only this action (needs --platform).")
@click.option("-d", "--description", default="", help="What the flag is for.")
@pass_options
def flags_set(
    options: Options, name: str, enabled: bool, platform: str | None, action_type: str | None, description: str
) -> None:
    """Create or replace flag NAME (admin): on lets its target run, off stops it.

    \b
    Examples:
      puraify flags set gmail-send --off --platform gmail --action send_email
      puraify flags set deployments --off        # a change freeze on production
    """
    result = options.run(
        lambda cp: cp.config.set_flag(
            name, enabled, platform=platform, action_type=action_type, description=description
        )
    )
    output.say(result, options.as_json, f"{result.name}: {'on' if result.enabled else 'off'}")


@flags.group("schedule", invoke_without_command=False)
def flags_schedule() -> None:
    """Scheduled flag changes: a flag switched on or off at a time, exact to the second."""


@flags_schedule.command("add")
@click.argument("name")
@click.option("--on/--off", "enabled", required=True, help="The flag's state from --at on.")
@click.option("--at", "at", required=True, help="ISO-8601 with a zone, in the future, e.g. 2026-12-08T02:00:00Z.")
@pass_options
def flags_schedule_add(options: Options, name: str, enabled: bool, at: str) -> None:
    """Schedule flag NAME to switch on or off at --at (admin)."""
    result = options.run(lambda cp: cp.config.schedule_flag(name, enabled, at))
    output.say(
        result, options.as_json, f"{name}: {'on' if result.enabled else 'off'} at {result.at} ({result.schedule_id})"
    )


@flags_schedule.command("list")
@click.argument("name")
@pass_options
def flags_schedule_list(options: Options, name: str) -> None:
    """Flag NAME's state now and its pending scheduled changes."""
    result = options.run(lambda cp: cp.config.flag_schedule(name))
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    click.echo(f"{name}: {'on' if result.enabled else 'off'} now")
    rows = [output.plain(c) for c in result.changes]
    output.table(rows, ["schedule_id", "at", "enabled", "created_by"], empty="(no scheduled changes)")


@flags_schedule.command("cancel")
@click.argument("name")
@click.argument("schedule_id")
@pass_options
def flags_schedule_cancel(options: Options, name: str, schedule_id: str) -> None:
    """Cancel scheduled change SCHEDULE_ID of flag NAME (admin)."""
    result = options.run(lambda cp: cp.config.cancel_flag_change(name, schedule_id))
    output.say(
        result,
        options.as_json,
        f"{name}: cancelled {result.schedule_id} ({'on' if result.enabled else 'off'} at {result.at})",
    )


@click.command("health")
@pass_options
def health(options: Options) -> None:
    """Whether the control plane answers, and its version (no credentials needed)."""
    output.show(options.run(lambda cp: cp.config.health()), options.as_json)


@click.command("config")
@pass_options
def global_config(options: Options) -> None:
    """The global configuration: API versions of the control plane and each platform, and the flags."""
    result = options.run(lambda cp: cp.config.global_config())
    if options.as_json:
        output.emit_json(output.plain(result))
        return
    output.table([{"name": k, "api_version": v} for k, v in result.api_versions.items()], ["name", "api_version"])
    click.echo("")
    flags = [output.plain(f) for f in result.feature_flags.values()]
    output.table(flags, ["name", "enabled", "platform", "action_type", "description"], empty="(no flags)")


COMMANDS = [platforms, flags, health, global_config]
