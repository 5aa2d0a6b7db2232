"""The ConsoleFunction: the built console served publicly, with its security headers and caching."""

from __future__ import annotations

import base64
import gzip

import pytest

from local.template import ROOT

STATIC = ROOT / "functions" / "console" / "static"


@pytest.fixture(scope="module")
def built() -> list[str]:
    names = sorted(p.name for p in STATIC.glob("*") if p.is_file())
    assert "index.html" in names, "build the console first: make console"
    return names


def _raw(reply_body_text: str, headers: dict[str, str], encoded: bool) -> bytes:
    data = base64.b64decode(reply_body_text) if encoded else reply_body_text.encode()
    return gzip.decompress(data) if headers.get("Content-Encoding") == "gzip" else data


def _get(invoke_handler, path: str, headers: dict[str, str] | None = None) -> dict:
    from tests.conftest import load_event

    route = "GET /console/" if path == "/console/" else "GET /console" if path == "/console" else "GET /console/{asset}"
    event = load_event("console/asset")
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"asset": path.removeprefix("/console/")} if route.endswith("{asset}") else {}
    event["headers"] = {"user-agent": "test", **(headers or {})}
    return invoke_handler(event)


@pytest.fixture
def console(aws):
    from local.gateway import LambdaContext, load_handler
    from local.template import Template

    handler = load_handler(Template().functions()["ConsoleFunction"])
    return lambda event: handler(event, LambdaContext("ConsoleFunction", "r"))


def test_index_is_public_revalidated_and_forbids_inline_script(console, built):
    reply = _get(console, "/console/")
    assert reply["statusCode"] == 200
    headers = reply["headers"]
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert headers["Cache-Control"] == "no-cache" and headers["X-Content-Type-Options"] == "nosniff"
    html = _raw(reply["body"], headers, reply["isBase64Encoded"]).decode()
    script = next(n for n in built if n.endswith(".js"))
    assert f'src="./{script}"' in html and "<script>" not in html


def test_hashed_bundle_is_immutable_and_gzipped_when_accepted(console, built):
    script = next(n for n in built if n.endswith(".js"))
    reply = _get(console, f"/console/{script}", {"accept-encoding": "gzip, br"})
    assert reply["statusCode"] == 200
    assert reply["headers"]["Cache-Control"].endswith("immutable")
    assert reply["headers"]["Content-Encoding"] == "gzip"
    body = _raw(reply["body"], reply["headers"], reply["isBase64Encoded"])
    assert body == (STATIC / script).read_bytes()
    again = _get(console, f"/console/{script}", {"if-none-match": reply["headers"]["ETag"]})
    assert again["statusCode"] == 304


def test_unknown_paths_and_traversal_are_404_and_bare_console_redirects(console, built):
    for path in ("/console/nope.js", "/console/../template.yaml", "/console/%2e%2e/template.yaml"):
        reply = _get(console, path)
        assert reply["statusCode"] == 404, path
    redirect = _get(console, "/console")
    assert redirect["statusCode"] == 308 and redirect["headers"]["Location"] == "/console/"
