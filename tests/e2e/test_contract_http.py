"""The contract and its docs page over HTTP: public, no data, nothing loaded from another origin."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.fixture(scope="module")
def http(plane):
    with httpx.Client(base_url=plane.base_url, timeout=30) as client:
        yield client


def test_openapi_json_is_served_without_credentials(http):
    reply = http.get("/openapi.json")
    assert reply.status_code == 200, reply.text
    spec = reply.json()
    assert spec["openapi"].startswith("3.1") and "/actions/check" in spec["paths"]
    assert http.get("/openapi.json").text == reply.text  # built once, then kept


def test_docs_page_loads_only_its_own_assets(http):
    page = http.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert links and not [link for link in links if "//" in link], links
    for link in links:
        asset = http.get(f"/{link}", headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200, link
        assert len(asset.content) > 20
    bundle = http.get("/docs/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"})
    assert "SwaggerUIBundle" in bundle.text and bundle.headers.get("content-encoding") == "gzip"


def test_docs_asset_that_does_not_exist_is_an_error_not_a_file(http):
    reply = http.get("/docs/..%2F..%2Fsettings.py")
    assert reply.status_code in (404, 422)
    assert reply.json()["error"]["code"] in ("validation_failed", "route_not_found")
