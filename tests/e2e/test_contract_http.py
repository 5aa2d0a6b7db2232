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


ADMIN = {"X-Engine-ID": "admin", "X-Engine-Key": "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"}


def test_a_method_no_route_declares_is_404_like_api_gateway(http):
    for method in ("TRACE", "QUERY", "OPTIONS"):
        reply = http.request(method, "/health")
        assert reply.status_code == 404, method
        assert reply.json()["error"]["code"] == "route_not_found"


@pytest.mark.parametrize("body", [b"\xff\xfe{}", '{"platform": "caf\xe9"}'.encode("latin-1")])
def test_a_body_that_is_not_utf8_is_400_invalid_encoding(http, body):
    reply = http.post("/actions/check", headers={**ADMIN, "Content-Type": "application/json"}, content=body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["code"] == "invalid_encoding"


@pytest.mark.parametrize("since", ["nan", "inf", "1e308", "-1"])
def test_monitoring_time_parameters_that_are_not_times_are_422(http, since):
    reply = http.get("/monitoring/stats", headers=ADMIN, params={"project_id": "pf_1", "since": since})
    assert reply.status_code == 422, reply.text
    assert [d["field"] for d in reply.json()["error"]["details"]] == ["query.since"]


def test_engine_event_details_that_dynamodb_cannot_store_are_422(http):
    for value in ("1e-200", "1e400", "12345678901234567890123456789012345678901"):
        body = '{"event_type": "x", "details": {"n": ' + value + "}}"
        reply = http.post("/log/engine_event", headers={**ADMIN, "Content-Type": "application/json"}, content=body)
        assert reply.status_code == 422, (value, reply.text)
        assert reply.json()["error"]["details"][0]["field"].startswith("body.details")
