"""Engine Control commands: engines, check, platforms, flags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from puraify_client import errors as e
from puraify_client.cli import Options, grant_changes, output, pass_options
from puraify_client.services.engines import RateLimit

DATETIME = click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])


def _permissions(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    permissions: dict[str, list[str]] = {}
    for pair in pairs:
        platform, sep, action = pair.partition(":")
        if not sep or not platform or not action:
            raise click.BadParameter(f"{pair!r} is not PLATFORM:ACTION", param_hint="--permission")
        permissions.setdefault(platform, []).append(action)
    return permissions


def _show_key(options: Options, result: object, what: str) -> None:
    data = output.plain(result, reveal=True)
    if options.as_json:
        output.emit_json(data)
        return
    output.fields(data)
    click.echo(f"\n{what}: the key above is shown once and stored only as a hash. Keep it now.", err=True)


@click.group()
def engines() -> None:
    """Engine identities: register, list, show, rotate, revoke, suspend, reinstate, set-limit, permissions,
    whoami (admin, except whoami)."""


@engines.command("register")
@click.argument("engine_id")
@click.option("-p", "--permission", "pairs", multiple=True, metavar="PLATFORM:ACTION", help="Repeatable.")
@click.option("-s", "--scope", "scopes", multiple=True, help="Scope such as logs:read or admin. Repeatable.")
@click.option(
    "--project", "projects", multiple=True, help="Project the engine may act in; '*' for every project. Repeatable."
)
@click.option("-d", "--description", default="", help="Who runs this engine and why.")
@click.option("--expires-at", type=DATETIME, help="When its key stops working (RFC 3339, with a time zone).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Its own requests per second.")
@click.option("--burst", type=click.IntRange(min=1), help="Its own burst (with --rate).")
@pass_options
def engines_register(
    options: Options,
    engine_id: str,
    pairs: tuple[str, ...],
    scopes: tuple[str, ...],
    projects: tuple[str, ...],
    description: str,
    expires_at: datetime | None,
    rate: float | None,
    burst: int | None,
) -> None:
    """Register ENGINE_ID and print its key (once). Without --project it is granted no project.

    \b
    Examples:
      puraify engines register mailer -p gmail:send_email --project shop
      puraify engines register execution -s logs:write --project '*'   # a platform-wide engine
      puraify engines register batch -p gmail:send_email --expires-at 2027-01-31T00:00:00Z --rate 5 --burst 25
    """
    permissions = _permissions(pairs)
    limit = _limit(rate, burst, None)
    result = grant_changes.run_or_pending(
        options,
        lambda cp: cp.engines.register(
            engine_id,
            permissions=permissions,
            scopes=list(scopes),
            projects=list(projects),
            description=description,
            rate_limit=limit,
            expires_at=_aware(expires_at),
        ),
    )
    if result is not None:
        _show_key(options, result, "registered")


def _aware(value: datetime | None) -> datetime | None:
    """A datetime given without a zone is taken as UTC (RFC 3339 needs one)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _limit(rate: float | None, burst: int | None, events: float | None) -> RateLimit | None:
    if rate is None and burst is None and events is None:
        return None
    if rate is None or burst is None:
        raise click.UsageError("give --rate and --burst together")
    return RateLimit(per_second=rate, burst=burst, events_per_second=events)


@engines.command("list")
@pass_options
def engines_list(options: Options) -> None:
    """Every engine, revoked ones included (admin).

    \b
    Example:
      puraify engines list --json | jq -r '.[] | select(.status == "active") | .engine_id'
    """
    rows = [output.plain(engine) for engine in options.run(lambda cp: cp.engines.list())]
    if options.as_json:
        output.emit_json(rows)
        return
    for row in rows:
        row["permissions"] = [f"{p}:{a}" for p, actions in sorted(row["permissions"].items()) for a in actions]
        if row.get("suspended"):
            row["status"] = "suspended"
        limit = row.get("rate_limit")
        row["limit"] = f"{limit['per_second']:g}/s burst {limit['burst']}" if limit else "default"
    output.table(rows, ["engine_id", "status", "scopes", "permissions", "limit", "expires_at", "updated_at"])


@engines.command("show")
@click.argument("engine_id")
@pass_options
def engines_show(options: Options, engine_id: str) -> None:
    """ENGINE_ID's permissions, scopes, status and when it was last seen (admin).

    \b
    Example:
      puraify engines show mailer
    """
    output.show(options.run(lambda cp: cp.engines.get(engine_id)), options.as_json)


@engines.command("whoami")
@pass_options
def engines_whoami(options: Options) -> None:
    """Validate your credentials and show your permissions, scopes and project grants."""
    output.show(options.run(lambda cp: cp.engines.validate()), options.as_json)


@engines.command("rotate")
@click.argument("engine_id")
@click.option("--grace-seconds", type=click.IntRange(0, 7 * 86400), help="How long the old key keeps working.")
@click.option("--expires-at", type=DATETIME, help="When the new key stops working (RFC 3339).")
@pass_options
def engines_rotate(options: Options, engine_id: str, grace_seconds: int | None, expires_at: datetime | None) -> None:
    """Issue a new key for ENGINE_ID; the old key works until the grace period ends."""
    result = options.run(
        lambda cp: cp.engines.rotate(engine_id, grace_seconds=grace_seconds, expires_at=_aware(expires_at))
    )
    _show_key(options, result, "rotated")


@engines.command("suspend")
@click.argument("engine_id")
@click.option("--reason", required=True, help="Why: kept in the admin audit and shown with the engine.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_options
def engines_suspend(options: Options, engine_id: str, reason: str, yes: bool) -> None:
    """Suspend ENGINE_ID: every call it makes answers 403 engine_suspended until it is reinstated.

    Its identity, keys and history stay (unlike revoke). At once on the instance that handles this,
    on the others within the cache TTL.
    """
    if not yes:
        click.confirm(f"Suspend engine {engine_id!r}? Every call it makes will be refused", abort=True)
    result = options.run(lambda cp: cp.engines.suspend(engine_id, reason))
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"suspended {result.engine_id}: {reason}")


@engines.command("reinstate")
@click.argument("engine_id")
@click.option("--reason", default="", help="Why: kept in the admin audit.")
@pass_options
def engines_reinstate(options: Options, engine_id: str, reason: str) -> None:
    """Lift ENGINE_ID's suspension: its keys work again."""
    result = options.run(lambda cp: cp.engines.reinstate(engine_id, reason))
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"reinstated {result.engine_id}")


@engines.command("set-limit")
@click.argument("engine_id")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Requests per second.")
@click.option("--burst", type=click.IntRange(min=1), help="Requests at once above the rate.")
@click.option("--events", type=click.FloatRange(min=0, min_open=True), help="Log events per second it may ingest.")
@click.option("--default", "default", is_flag=True, help="Back to the stack's default limits.")
@pass_options
def engines_set_limit(
    options: Options, engine_id: str, rate: float | None, burst: int | None, events: float | None, default: bool
) -> None:
    """Set ENGINE_ID's own rate limit (a batch of N checks counts N), or --default.

    \b
    Examples:
      puraify engines set-limit mailer --rate 5 --burst 25
      puraify engines set-limit mailer --default
    """
    limit = None if default else _limit(rate, burst, events)
    if limit is None and not default:
        raise click.UsageError("give --rate and --burst, or --default")
    result = options.run(lambda cp: cp.engines.set_rate_limit(engine_id, limit))
    output.show(result, options.as_json)


@engines.command("revoke")
@click.argument("engine_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_options
def engines_revoke(options: Options, engine_id: str, yes: bool) -> None:
    """Revoke ENGINE_ID: every key of it stops working (within the cache TTL)."""
    if not yes:
        click.confirm(f"Revoke engine {engine_id!r}? Its keys stop working", abort=True)
    result = options.run(lambda cp: cp.engines.revoke(engine_id))
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"revoked {result.engine_id} at {result.revoked_at}")


@engines.command("permissions")
@click.argument("engine_id")
@click.option("-p", "--permission", "pairs", multiple=True, metavar="PLATFORM:ACTION", help="Repeatable.")
@click.option("-s", "--scope", "scopes", multiple=True, help="Replace the scopes too. Repeatable.")
@click.option("--project", "projects", multiple=True, help="Replace the project grants too ('*': all). Repeatable.")
@pass_options
def engines_permissions(
    options: Options, engine_id: str, pairs: tuple[str, ...], scopes: tuple[str, ...], projects: tuple[str, ...]
) -> None:
    """Replace ENGINE_ID's permissions with the given ones (none given: no permissions)."""
    permissions = _permissions(pairs)
    result = grant_changes.run_or_pending(
        options,
        lambda cp: cp.engines.set_permissions(
            engine_id,
            permissions,
            scopes=list(scopes) if scopes else None,
            projects=list(projects) if projects else None,
        ),
    )
    if result is not None:
        output.show(result, options.as_json)


@engines.command("api-version")
@click.argument("engine_id")
@click.argument("version")
@pass_options
def engines_api_version(options: Options, engine_id: str, version: str) -> None:
    """Pin ENGINE_ID to API VERSION (a date of `puraify config`'s supported_versions), for requests naming none."""
    result = options.run(lambda cp: cp.engines.set_api_version(engine_id, version))
    output.show(result, options.as_json)


@click.command("check")
@click.argument("platform")
@click.argument("action")
@click.option("--engine", "engine_id", help="Check another engine (scope checks:on_behalf); default: yourself.")
@click.option("--project", "project_id", help="Project id, recorded in the audit.")
@click.option("--flow", "flow_id", help="Flow id, recorded in the audit.")
@click.option("--explain", is_flag=True, help="Also show each step evaluated, in order, and the deciding rule.")
@pass_options
def check(
    options: Options,
    platform: str,
    action: str,
    engine_id: str | None,
    project_id: str | None,
    flow_id: str | None,
    explain: bool,
) -> None:
    """May an engine do ACTION on PLATFORM now? Exit code 0 if allowed, 3 if denied.

    \b
    Example:
      puraify check slack send_message --engine notifier && echo go
      puraify check gmail send_email --explain
    """
    result = options.run(
        lambda cp: cp.actions.check(
            platform, action, engine_id=engine_id, project_id=project_id, flow_id=flow_id, explain=explain
        )
    )
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        verdict = "allowed" if result.allowed else "denied"
        why = f": {result.reason}" if result.reason else ""
        click.echo(f"{verdict}: {result.engine_id} {result.platform}.{result.action_type}{why}")
        if result.explanation is not None:
            steps = [output.plain(step) for step in result.explanation.steps]
            output.table(steps, ["rule", "outcome", "detail"])
            shown = result.explanation
            click.echo(f"\ndecided by: {shown.decided_by or '-'}; engine revision {shown.engine_revision or '-'}, "
                       f"catalog revision {shown.catalog_revision or '-'}")  # fmt: skip
    if not result.allowed:
        raise click.exceptions.Exit(output.DENIED)


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
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{result.name}: {result.status}")


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
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{name}: maintenance {result.starts_at} -> {result.ends_at} ({result.window_id})")


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
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{name}: cancelled {result.window_id} ({result.starts_at} -> {result.ends_at})")


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
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{result.name}: {'on' if result.enabled else 'off'}")


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
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{name}: {'on' if result.enabled else 'off'} at {result.at} ({result.schedule_id})")


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
    if options.as_json:
        output.emit_json(output.plain(result))
    else:
        click.echo(f"{name}: cancelled {result.schedule_id} ({'on' if result.enabled else 'off'} at {result.at})")


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


COMMANDS = [engines, check, platforms, flags, health, global_config]
engines.add_command(grant_changes.changes, "changes")
