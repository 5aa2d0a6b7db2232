"""How the CLI talks back: tables for people, JSON for scripts, and exit codes scripts can rely on."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click
from pydantic import BaseModel, SecretStr

from puraify_client import errors as e

OK = 0
FAILED = 1
USAGE = 2
DENIED = 3
AUTH = 4
NOT_FOUND = 5
CONFLICT = 6
INVALID = 7
UNAVAILABLE = 8
UNSUPPORTED = 9

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (for check and plan decide: allowed)
  1  unexpected failure
  2  bad command line
  3  denied (check or plan decide said no)
  4  not authenticated or not permitted (401, 403)
  5  not found (404)
  6  conflict (409)
  7  invalid input (400, 413, 422)
  8  control plane unreachable, timed out, throttled or unavailable (safe to retry later)
  9  this control plane does not offer the operation
"""


def exit_code(error: e.PuraifyClientError) -> int:
    """The process exit code for an SDK error."""
    if isinstance(error, e.ActionDenied):
        return DENIED
    if isinstance(error, e.HTTPError):
        if error.status in (401, 403):
            return AUTH
        if error.status == 404:
            return UNSUPPORTED if error.error_code == "route_not_found" else NOT_FOUND
        if error.status == 409:
            return CONFLICT
        if error.status in (400, 413, 422):
            return INVALID
        if error.status == 429 or error.status >= 500:
            return UNAVAILABLE
        return FAILED
    if isinstance(error, (e.RequestTimeout, e.ConnectionFailed)):
        return UNAVAILABLE
    if isinstance(error, (e.ConfigurationError, e.UnsupportedProtocolError)):
        return USAGE
    return FAILED


def plain(value: Any, *, reveal: bool = False) -> Any:
    """A model or value as JSON-ready data; ``reveal`` shows secrets (a key shown once)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value() if reveal else "**********"
    if isinstance(value, BaseModel):
        return {k: plain(getattr(value, k), reveal=reveal) for k in value.model_dump(exclude_none=False)} | {
            k: plain(v, reveal=reveal) for k, v in (value.model_extra or {}).items()
        }
    if isinstance(value, Mapping):
        return {str(k): plain(v, reveal=reveal) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, reveal=reveal) for v in value]
    return value


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def show(result: Any, as_json: bool) -> None:
    """A result as JSON, or as ``key: value`` lines for people."""
    data = plain(result)
    if as_json:
        emit_json(data)
    else:
        fields(data)


def cell(value: Any) -> str:
    """One value for people: never a blank (absent or empty values print as ``-``)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        if "value" in value:  # a variable view: {"value": ..., "secret": ...}
            return cell(value["value"])
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value) or "-"
    return str(value)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, empty: str = "(none)") -> None:
    """A plain-text table with a header; long cells are cut at 60 characters."""
    cells = [[cell(row.get(c))[:60] for c in columns] for row in rows]
    if not cells:
        click.echo(empty)
        return
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def fields(data: Mapping[str, Any]) -> None:
    """A record as ``key: value`` lines."""
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        click.echo(f"{key.ljust(width)}  {cell(value)}")


def error(err: e.PuraifyClientError, as_json: bool) -> None:
    """Report an error on stderr (as a JSON envelope with ``--json``)."""
    if as_json:
        payload: dict[str, Any] = {"code": err.code, "type": type(err).__name__, "message": err.message}
        if isinstance(err, e.HTTPError):
            payload |= {"status": err.status, "error_code": err.error_code, "details": err.details}
        click.echo(json.dumps({"error": payload, "request_id": err.request_id}), err=True)
        return
    click.echo(f"error: {err}", err=True)
    if isinstance(err, e.HTTPError):
        for detail in err.details[:20]:
            if isinstance(detail, Mapping):
                click.echo(f"  {detail.get('field', '-')}: {detail.get('message', '')}", err=True)


def status_line(text: str) -> None:
    """Progress on stderr, only for people (a terminal); scripts reading stdout never see it."""
    if sys.stderr.isatty():
        click.echo(f"\r{text}", err=True, nl=False)
