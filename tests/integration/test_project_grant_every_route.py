"""Every route that names a project, found in the template and its contract, answers 403 to an engine that
holds every scope but not that project: a route added later without its grant check fails here.

A route names a project when its path or query has ``project_id``, or its body does (at any depth: a
batch of events each naming one). Its request is its event in ``events/`` (one per route), with every
project in it replaced by one the caller is not granted.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from local.template import Template
from puraify import openapi
from tests.conftest import event_of

OTHER = "proj-b"  # the project named in every request; the caller is granted only MINE
MINE = "proj-a"


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body_names_project(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> bool:
    schema = _resolve(schema, components)
    if depth > 6:
        return False
    if "project_id" in schema.get("properties", {}):
        return True
    children = [*schema.get("properties", {}).values(), *schema.get("anyOf", []), *schema.get("oneOf", [])]
    children += schema.get("allOf", []) + ([schema["items"]] if isinstance(schema.get("items"), dict) else [])
    return any(_body_names_project(child, components, depth + 1) for child in children)


def _project_routes() -> list[tuple[str, str, bool]]:
    """(method, path, body names a project) of every template route whose path, query or body names one."""
    spec = openapi.build(openapi._load_apps(openapi.FUNCTIONS))
    components = spec["components"]["schemas"]
    found = []
    for route in Template().routes():
        op = spec["paths"][route.path][route.method.lower()]
        in_params = any(p["name"] == "project_id" for p in op.get("parameters", []))
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        in_body = body is not None and _body_names_project(body, components)
        if in_params or in_body:
            found.append((route.method, route.path, in_body))
    return sorted(found)


ROUTES = _project_routes()


def _name_other_project(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: OTHER if k == "project_id" else _name_other_project(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_name_other_project(v) for v in value]
    return value


def _request(method: str, path: str, in_body: bool) -> dict[str, Any]:
    """The route's event, naming OTHER wherever it names a project (and in the query where it may)."""
    event = copy.deepcopy(event_of(method, path))
    params = event.get("pathParameters") or {}
    raw = path
    for name, value in params.items():
        params[name] = OTHER if name == "project_id" else value
        raw = raw.replace("{" + name + "}", params[name])
    event["rawPath"] = event["requestContext"]["http"]["path"] = raw
    if "{project_id}" not in path and not in_body:
        # The events' times are fixed dates: a range check of today would answer before the grant check.
        kept = {k: v for k, v in (event.get("queryStringParameters") or {}).items() if k not in ("since", "until")}
        query = {**kept, "project_id": OTHER}
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if in_body:
        body = _name_other_project(json.loads(event.get("body") or "{}"))
        if isinstance(body, dict) and "project_id" not in json.dumps(body):
            body["project_id"] = OTHER  # an optional project (a check's), named here
        event["body"] = json.dumps(body)
    return event


def _items(aws) -> dict[str, int]:
    """How many items each table holds, but the audit table (denials are audited) and the aggregates table
    (every project's check counts per minute, which count a refused check too): no project's data."""
    ddb = aws.client("dynamodb")
    return {
        logical_id: ddb.scan(TableName=aws.name(logical_id), Select="COUNT")["Count"]
        for logical_id in aws.template.tables()
        if logical_id not in ("AuditTable", "AggregatesTable")
    }


def test_the_walk_finds_every_kind_of_route_that_names_a_project():
    paths = {(method, path) for method, path, _ in ROUTES}
    assert ("GET", "/env/{project_id}/{environment}/deployment") in paths  # the one the report found open
    assert {("GET", "/env/compare"), ("POST", "/monitoring/logs"), ("POST", "/plan/decide")} <= paths
    assert ("POST", "/actions/check") in paths  # an optional project, in the body
    assert len(ROUTES) >= 20, ROUTES


@pytest.mark.parametrize(("method", "path", "in_body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_naming_a_project_is_403_for_an_engine_not_granted_it(
    aws, admin_key, invoke, method, path, in_body
):
    # Given an engine with every scope (admin) but granted only another project
    registered = invoke(
        "register/register",
        engine=("admin", admin_key),
        body={"engine_id": "stranger", "scopes": ["admin"], "projects": [MINE]},
    )
    assert registered.status == 201, registered.body
    stranger = ("stranger", registered.body["engine_key"])
    before = _items(aws)
    # When it calls the route naming a project it does not hold
    reply = invoke(_request(method, path, in_body), engine=stranger)
    # Then 403 project_not_granted (not 200, not 404), and nothing is written
    assert reply.status == 403, (method, path, reply.status, reply.body)
    assert reply.body["error"]["code"] == "project_not_granted"
    assert _items(aws) == before
