"""The README's route table is the access contract: every template route is in it once, and each route
answers as its row says.

- A row naming a scope: an engine holding every other scope of the table (not ``admin``), granted every
  project, gets 403 ``missing_scope`` naming that scope, and nothing is written. (A request is parsed
  before it is authorized: a malformed one is 422 whoever sends it; its events are well formed.)
- A row whose scope is ``none``: an engine holding no scope at all is never refused for a scope
  (rows that name a conditional scope in parentheses, like a check on another engine's behalf, say
  when one is needed and are left to their own tests).

The request of each route is its event in ``events/`` (one per route).
"""

from __future__ import annotations

import re

import pytest

from local.template import ROOT, Template
from tests.conftest import event_of

ROW = re.compile(r"^\| (?P<routes>.+?) \| (?P<scope>.+?) \| (?P<grant>.+?) \|$")
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`]*)`")
SCOPE = re.compile(r"^`([a-z:_*<>-]+)`")


def _table() -> list[tuple[str, str, str | None, bool]]:
    """(method, path, scope or None, scope is conditional) of every route in the README's table."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("| route | scope | project grant |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        match = ROW.match(line)
        assert match, f"the README's route table has a row this test cannot read: {line}"
        scope_text = match["scope"]
        scope = SCOPE.match(scope_text)
        for method, path in ROUTE.findall(match["routes"]):
            rows.append((method, path, scope[1] if scope else None, scope is None and "`" in scope_text))
    return rows


TABLE = _table()
SCOPES = sorted({scope for _, _, scope, _ in TABLE if scope} | {"checks:on_behalf", "report", "env:secrets"})


def test_every_template_route_is_in_the_readme_table_once():
    listed = [(method, path) for method, path, _, _ in TABLE]
    duplicates = sorted({route for route in listed if listed.count(route) > 1})
    assert not duplicates, f"listed more than once in the README's route table: {duplicates}"
    served = {(route.method, route.path) for route in Template().routes()}
    missing = sorted(served - set(listed))
    unknown = sorted(set(listed) - served)
    assert not missing, f"routes of the template missing from the README's route table: {missing}"
    assert not unknown, f"routes in the README's route table that the template does not serve: {unknown}"


SCOPED = [(m, p, s) for m, p, s, _ in TABLE if s is not None]
OPEN = [(m, p) for m, p, s, conditional in TABLE if s is None and not conditional]


def _engine(admin_key, invoke, lacking: str | None) -> tuple[str, str]:
    """An engine granted every project, holding every scope of the table but ``lacking`` and ``admin``
    (``None``: holding no scope at all)."""
    engine_id = "lacks-" + re.sub(r"[^a-z0-9]+", "-", lacking).strip("-") if lacking else "no-scopes"
    scopes = [s for s in SCOPES if s not in (lacking, "admin")] if lacking else []
    reply = invoke(
        "register/register",
        engine=("admin", admin_key),
        body={"engine_id": engine_id, "scopes": scopes, "projects": ["*"]},
    )
    assert reply.status == 201, reply.body
    return engine_id, reply.body["engine_key"]


def _items(aws) -> dict[str, int]:
    """Items per table, but the audit table (refusals are audited) and the aggregates (check counts)."""
    ddb = aws.client("dynamodb")
    return {
        logical_id: ddb.scan(TableName=aws.name(logical_id), Select="COUNT")["Count"]
        for logical_id in aws.template.tables()
        if logical_id not in ("AuditTable", "AggregatesTable")
    }


@pytest.mark.parametrize(("method", "path", "scope"), SCOPED, ids=[f"{m} {p}" for m, p, _ in SCOPED])
def test_a_route_needing_a_scope_refuses_an_engine_without_it(aws, admin_key, invoke, method, path, scope):
    engine = _engine(admin_key, invoke, scope)
    event = event_of(method, path)
    # The events' times are fixed dates: a range check of today answers 422 before any access check.
    query = {k: v for k, v in (event.get("queryStringParameters") or {}).items() if k not in ("since", "until")}
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    before = _items(aws)
    reply = invoke(event, engine=engine)
    assert reply.status == 403, (method, path, reply.status, reply.body)
    assert reply.body["error"]["code"] == "missing_scope", reply.body
    assert f"'{scope}'" in reply.body["error"]["message"], reply.body
    assert _items(aws) == before


@pytest.mark.parametrize(("method", "path"), OPEN, ids=[f"{m} {p}" for m, p in OPEN])
def test_a_route_needing_no_scope_serves_an_engine_without_any(admin_key, invoke, method, path):
    engine = _engine(admin_key, invoke, None)
    event = event_of(method, path)
    if "{engine_id}" in path:  # a route about an engine (its rotation), asked by that engine
        event["pathParameters"]["engine_id"] = engine[0]
        event["rawPath"] = event["requestContext"]["http"]["path"] = path.replace("{engine_id}", engine[0])
    reply = invoke(event, engine=engine)
    code = reply.body.get("error", {}).get("code") if isinstance(reply.body, dict) else None
    assert code != "missing_scope", (method, path, reply.body)
    assert reply.status < 500, (method, path, reply.status, reply.body)
