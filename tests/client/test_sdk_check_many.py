"""``cp.actions.check_many``: batch checks, 25 per request, one decision per check in order."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest

import puraify_client as pc
from tests.client.mockplane import E2E_ADMIN_KEY, envelope, reply

_ids = itertools.count(1)


def _answer(request: httpx.Request) -> httpx.Response:
    checks = json.loads(request.content)["checks"]
    results = [
        {
            "allowed": c["action_type"] == "send_email",
            "rule": None if c["action_type"] == "send_email" else "not_granted",
            "engine_id": "engine-1",
            "platform": c["platform"],
            "action_type": c["action_type"],
            "request_id": "req-1",
        }
        for c in checks
    ]
    return reply(200, {"results": results, "request_id": "req-1"})


async def test_check_many_sends_25_per_request_and_keeps_the_order(mocked, recorder):
    cp = mocked(_answer)
    checks = [("gmail", "send_email"), {"platform": "gmail", "action_type": "read_email", "project_id": "pf_1"}] * 20
    decisions = await cp.actions.check_many(checks)
    assert [d.allowed for d in decisions] == [True, False] * 20
    assert [len(body["checks"]) for body in recorder.bodies()] == [25, 15]
    assert recorder.bodies()[0]["checks"][1] == {"platform": "gmail", "action_type": "read_email", "project_id": "pf_1"}
    assert {r.url.path for r in recorder.requests} == {"/actions/check"}


async def test_check_many_refuses_a_misspelt_field_before_sending(mocked, recorder):
    cp = mocked(_answer)
    with pytest.raises(pc.InvalidArgumentError):
        await cp.actions.check_many([{"platform": "gmail", "action": "send_email"}])
    assert recorder.requests == []


async def test_check_many_retries_a_503_and_raises_when_it_stays(mocked, recorder):
    cp = mocked(lambda request: envelope(503, "store_unavailable", "the audit log is temporarily unavailable"))
    with pytest.raises(pc.UnavailableError):
        await cp.actions.check_many([("gmail", "send_email")])
    assert len(recorder.requests) > 1  # a check is safe to retry


async def test_check_many_against_the_local_runner(plane):
    async with pc.ControlPlane(plane.base_url, "admin", E2E_ADMIN_KEY) as admin:
        engine_id = f"batcher-{next(_ids)}"
        created = await admin.engines.register(engine_id, permissions={"gmail": ["send_email"]})
    async with pc.ControlPlane(plane.base_url, engine_id, created.engine_key.get_secret_value()) as cp:
        decisions = await cp.actions.check_many(
            [
                ("gmail", "send_email"),
                ("gmail", "read_email"),
                {"engine_id": "admin", "platform": "gmail", "action_type": "send_email"},
            ]
        )
    assert [d.allowed for d in decisions] == [True, False, False]
    assert [d.rule for d in decisions] == [None, "not_granted", "missing_scope"]
    assert len({d.request_id for d in decisions}) == 1
