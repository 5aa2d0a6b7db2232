"""Commands that send records: ``logs send`` (JSON lines, in batches) and ``event`` (an engine's own event)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from puraify_client import errors as e
from puraify_client.cli import Options, output, pass_options
from puraify_client.cli.monitoring import logs
from puraify_client.services.monitoring import LogEvent

BATCH = 500  # the most events one POST /monitoring/logs takes
SHOWN_REJECTIONS = 20


def _events(stream: IO[str], rejected: list[dict[str, Any]], read: list[int]) -> Iterator[tuple[int, LogEvent]]:
    """(line number, event) for each valid line; bad lines go to ``rejected`` with the reason."""
    for number, line in enumerate(stream, start=1):
        read[0] += len(line.encode())
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            rejected.append({"line": number, "error": f"not JSON: {error.msg}"})
            continue
        if not isinstance(data, dict):
            rejected.append({"line": number, "error": "not a JSON object"})
            continue
        try:
            yield number, LogEvent(**{str(k): v for k, v in data.items()})
        except e.InvalidArgumentError as error:
            fields = "; ".join(output.detail_line(d) for d in error.details[:5])
            rejected.append({"line": number, "error": fields or error.message})


def _batches(events: Iterator[tuple[int, LogEvent]]) -> Iterator[list[tuple[int, LogEvent]]]:
    batch: list[tuple[int, LogEvent]] = []
    for item in events:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _size(stream: IO[str]) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size if os.path.isfile(stream.name) else None
    except (OSError, AttributeError, TypeError, ValueError):
        return None


@logs.command("send")
@click.argument("source", metavar="FILE", type=click.File("r"), default="-")
@pass_options
def logs_send(options: Options, source: IO[str]) -> None:
    """Send the JSON lines of FILE (default: stdin) as log events, 500 per request (needs logs:write).

    Every line is one event ({"project_id", "event_type", ...} as in POST /monitoring/logs).
    Lines that are not valid events are skipped and listed with the events the control plane
    rejected; the exit code is 7 if anything was rejected. A progress bar shows on a terminal.
    Each event gets an event_id, so a retried batch is stored once.

    \b
    Example:
      puraify logs send events.jsonl
      tail -n 1000 engine.log.jsonl | puraify logs send
    """
    rejected: list[dict[str, Any]] = []
    size = _size(source)
    on_terminal = sys.stderr.isatty()
    read = [0]

    async def send(cp: Any) -> int:
        count = 0
        # People get a bar for a file and a running count for stdin; scripts get neither.
        bar = click.progressbar(length=size, label="sending", file=sys.stderr) if on_terminal and size else None
        with bar or contextlib.nullcontext():
            for batch in _batches(_events(source, rejected, read)):
                result = await cp.monitoring.log_batch([event for _, event in batch])
                count += result.accepted
                for refused in result.rejected:
                    line = batch[refused.index][0] if 0 <= refused.index < len(batch) else None
                    rejected.append({"line": line, "error": refused.error})
                if bar is not None:
                    bar.update(min(read[0], size or 0) - bar.pos)
                elif on_terminal:
                    output.status_line(f"sent {count + len(rejected)} events")
        if on_terminal and bar is None:
            click.echo("", err=True)
        return count

    accepted = options.run(send)
    rejected.sort(key=lambda r: r["line"] or 0)
    if options.as_json:
        output.emit_json({"accepted": accepted, "rejected": rejected})
    else:
        click.echo(f"accepted {accepted}, rejected {len(rejected)}")
        for refused in rejected[:SHOWN_REJECTIONS]:
            click.echo(f"  line {output.cell(refused['line'])}: {output.cell(refused['error'])}", err=True)
        if len(rejected) > SHOWN_REJECTIONS:
            click.echo(f"  ... and {len(rejected) - SHOWN_REJECTIONS} more (--json lists all)", err=True)
    if rejected:
        raise click.exceptions.Exit(output.INVALID)


@click.command("event")
@click.argument("event_type")
@click.option("--platform", help="Platform the event concerns.")
@click.option("--action", "action_type", help="Action the event concerns.")
@click.option("--status", help="started, degraded, ...")
@click.option("-m", "--message", help="What happened, for people.")
@pass_options
def event(
    options: Options,
    event_type: str,
    platform: str | None,
    action_type: str | None,
    status: str | None,
    message: str | None,
) -> None:
    """Record an engine lifecycle event of EVENT_TYPE as the calling engine (POST /log/engine_event).

    \b
    Example:
      puraify event started --status ok -m "worker 3 up"
    """
    fields = {"platform": platform, "action_type": action_type, "status": status, "message": message}
    result = options.run(
        lambda cp: cp.monitoring.engine_event(event_type, **{k: v for k, v in fields.items() if v is not None})
    )
    output.show(result, options.as_json)


COMMANDS = [event]
