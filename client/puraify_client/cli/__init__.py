"""``puraify``: the operator command line, on top of the SDK."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import click

from puraify_client import __version__
from puraify_client import errors as e
from puraify_client.cli import output
from puraify_client.client import ControlPlane


@dataclass
class Options:
    url: str | None
    engine_id: str | None
    engine_key: str | None
    as_json: bool
    timeout: float

    def run[T](self, work: Callable[[ControlPlane], Awaitable[T]]) -> T:
        """Run ``work`` with a client built from the command line and the environment."""

        async def go() -> T:
            async with ControlPlane(self.url, self.engine_id, self.engine_key, read_timeout=self.timeout) as cp:
                return await work(cp)

        return asyncio.run(go())

    def first(self, items: Callable[[ControlPlane], AsyncIterator[Any]], limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` things ``items`` yields (following pages as needed), as plain data."""

        async def take(cp: ControlPlane) -> list[dict[str, Any]]:
            found = []
            async for item in items(cp):
                found.append(output.plain(item))
                if len(found) >= limit:
                    break
            return found

        return self.run(take)


class CLI(click.Group):
    """Maps every SDK error to one line on stderr and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except e.PuraifyClientError as err:
            options = ctx.find_object(Options)
            output.error(err, bool(options and options.as_json))
            ctx.exit(output.exit_code(err))


pass_options = click.make_pass_decorator(Options)


@click.group(
    cls=CLI,
    epilog=output.EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--url", envvar="PURAIFY_URL", metavar="URL", help="Control plane URL [env PURAIFY_URL].")
@click.option("--engine-id", envvar="PURAIFY_ENGINE_ID", metavar="ID", help="Your engine id [env PURAIFY_ENGINE_ID].")
@click.option(
    "--engine-key",
    envvar="PURAIFY_ENGINE_KEY",
    metavar="KEY",
    help="Your engine key [env PURAIFY_ENGINE_KEY]; prefer the variable, it stays out of shell history.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (errors as JSON on stderr).")
@click.option("--timeout", default=10.0, show_default=True, metavar="SECONDS", help="Read timeout per request.")
@click.version_option(__version__, prog_name="puraify")
@click.pass_context
def main(
    ctx: click.Context, url: str | None, engine_id: str | None, engine_key: str | None, as_json: bool, timeout: float
) -> None:
    """Operate a PURAIFY control plane: engines, checks, platforms, flags, logs, environments, plans.

    \b
    Start here:
      export PURAIFY_URL=http://127.0.0.1:3000 PURAIFY_ENGINE_ID=admin PURAIFY_ENGINE_KEY=pfk_...
      puraify engines whoami
      puraify check gmail send_email --engine my-engine
      puraify COMMAND --help
    """
    ctx.obj = Options(url, engine_id, engine_key, as_json, timeout)


def _register_commands() -> None:
    from puraify_client.cli import audit, catalog, engine_control, environments, monitoring, planning, sending, why

    for module in (engine_control, catalog, monitoring, sending, audit, environments, planning, why):
        for command in module.COMMANDS:
            main.add_command(command)


_register_commands()

__all__ = ["Options", "main", "pass_options"]
