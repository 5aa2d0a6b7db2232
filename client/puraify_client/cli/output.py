"""How the CLI talks back: tables for people, JSON for scripts, and exit codes scripts can rely on."""

from __future__ import annotations

import json
import sys
import textwrap
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
Exit codes (the same for every command):
  0  success (for check and plan decide: allowed)
  1  unexpected failure
  2  bad command line, bad argument, no URL
  3  denied by a rule: check, plan decide, or the gate refusing env promote
  4  not authenticated or not permitted (401, 403 for missing credentials or scope)
  5  not found (404)
  6  conflict (409)
  7  invalid input (400, 413, 422)
  8  control plane unreachable, timed out, throttled or unavailable (safe to retry later)
  9  this control plane does not offer the operation
With --json, an error is the API's envelope on stderr with "exit_code" beside it:
  {"error": {"code": "...", "message": "...", "details": [...]}, "request_id": "...", "exit_code": 3}
"""

# Server error codes that mean "a rule said no", not "you may not ask": exit 3 like a denied check.
DENIAL_CODES = frozenset({"promotion_denied"})

# Codes for errors that never reached the control plane (the envelope's "code" is always a string).
_LOCAL_CODES: dict[type[e.PuraifyClientError], str] = {
    e.RequestTimeout: "timeout",
    e.UnsupportedProtocolError: "unsupported_protocol",
    e.ConnectionFailed: "connection_failed",
    e.InvalidJSONError: "invalid_response",
    e.ConfigurationError: "configuration_error",
    e.InvalidArgumentError: "invalid_argument",
    e.UnexpectedError: "unexpected_error",
}


def exit_code(error: e.PuraifyClientError) -> int:
    """The process exit code for an SDK error."""
    if isinstance(error, e.ActionDenied):
        return DENIED
    if isinstance(error, e.HTTPError):
        if error.error_code in DENIAL_CODES:
            return DENIED
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
    if isinstance(error, (e.ConfigurationError, e.UnsupportedProtocolError, e.InvalidArgumentError)):
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


def say(result: Any, as_json: bool, text: str) -> None:
    """A result as JSON, or one line of ``text`` for people."""
    if as_json:
        emit_json(plain(result))
    else:
        click.echo(text)


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


CELL_WIDTH = 60


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, empty: str = "(none)") -> None:
    """A plain-text table with a header. A cell longer than 60 characters is wrapped at word boundaries onto
    continuation lines (a word longer than that is split), so nothing is cut off."""
    lines: list[list[str]] = []
    for row in rows:
        parts = [textwrap.wrap(cell(row.get(c)), CELL_WIDTH, break_on_hyphens=False) or ["-"] for c in columns]
        height = max(len(p) for p in parts)
        lines += [[p[i] if i < len(p) else "" for p in parts] for i in range(height)]
    if not lines:
        click.echo(empty)
        return
    widths = [max(len(c), *(len(r[i]) for r in lines)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in lines:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def fields(data: Mapping[str, Any]) -> None:
    """A record as ``key: value`` lines."""
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        click.echo(f"{key.ljust(width)}  {cell(value)}")


def local_code(err: e.PuraifyClientError) -> str:
    """The envelope code of an error raised in the client itself."""
    return next((code for cls, code in _LOCAL_CODES.items() if isinstance(err, cls)), "unexpected_error")


def envelope(err: e.PuraifyClientError) -> dict[str, Any]:
    """The API's own error envelope (for HTTP errors exactly the server's), with the exit code beside it."""
    if isinstance(err, e.HTTPError):
        body: dict[str, Any] = {"code": err.error_code or f"http_{err.status}", "message": err.message}
        body["details"] = err.details
        extra: dict[str, Any] = {"status": err.status}
    else:
        body = {"code": local_code(err), "message": err.message, "details": getattr(err, "details", [])}
        extra = {}
    return {"error": body, "request_id": err.request_id, **extra, "exit_code": exit_code(err)}


def detail_line(detail: Any) -> str:
    """One entry of an error's details, whatever keys it has; never a blank."""
    if not isinstance(detail, Mapping):
        return cell(detail)
    if "field" in detail or "message" in detail:
        return f"{cell(detail.get('field'))}: {cell(detail.get('message'))}"
    return ", ".join(f"{k}: {cell(v)}" for k, v in detail.items()) or "-"


def error(err: e.PuraifyClientError, as_json: bool) -> None:
    """Report an error on stderr (as the JSON envelope with ``--json``)."""
    if as_json:
        click.echo(json.dumps(envelope(err)), err=True)
        return
    click.echo(f"error: {err}", err=True)
    for detail in getattr(err, "details", [])[:20]:
        click.echo(f"  {detail_line(detail)}", err=True)


def status_line(text: str) -> None:
    """Progress on stderr, only for people (a terminal); scripts reading stdout never see it."""
    if sys.stderr.isatty():
        click.echo(f"\r{text}", err=True, nl=False)
