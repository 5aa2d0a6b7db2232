"""The operator console: serves the built single-page app (``console/``, built by ``make console``).

Public (no credentials): the assets hold no data, and the app calls the API with the operator's own
engine id and key. Every response carries the Content-Security-Policy (no inline script, nothing
from another origin). Only files the build wrote are served, so no path can reach outside them.
"""

import hashlib
import mimetypes
from functools import cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.logging import correlation_paths

from puraify.errors import NotFoundError
from puraify.http import create_app, handle
from puraify.observability import logger, metrics
from puraify.openapi import responses

STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The build writes flat, content-hashed names (main-<hash>.js): a new build is a new URL.
AssetName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.-]{1,128}$")]
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

app = create_app()


@cache
def _assets() -> dict[str, tuple[bytes, str, str]]:
    """Every built file by its path under /console/: content, content type, ETag (read once per instance)."""
    found: dict[str, tuple[bytes, str, str]] = {}
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        data = path.read_bytes()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml", "application/json"):
            kind += "; charset=utf-8"
        found[path.relative_to(STATIC).as_posix()] = (data, kind, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
    return found


def _serve(name: str, cache_control: str) -> Response[bytes]:
    asset = _assets().get(name)
    if asset is None:
        raise NotFoundError(f"no console asset '{name}'", code="asset_not_found")
    data, kind, etag = asset
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": etag, "Vary": "Accept-Encoding"}
    if (app.current_event.headers or {}).get("if-none-match") == etag:
        return Response(status_code=304, headers=headers, body=b"")
    return Response(status_code=200, content_type=kind, headers=headers, body=data, compress=len(data) > 1024)


@app.get("/console", responses=responses(308))
def root() -> Response[str]:
    return Response(status_code=308, headers={**SECURITY_HEADERS, "Location": "/console/"}, body="")


@app.get("/console/", responses=responses(200, 304, 404, media_type="text/html"))
def index() -> Response[bytes]:
    return _serve("index.html", REVALIDATE)


@app.get(
    "/console/<asset>",
    responses=responses(200, 304, 404, media_type=("text/javascript", "text/css", "image/svg+xml", "text/html")),
)
def asset(asset: AssetName) -> Response[bytes]:
    return _serve(asset, REVALIDATE if asset.endswith(".html") else IMMUTABLE)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
