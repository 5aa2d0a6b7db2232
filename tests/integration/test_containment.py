"""Containment through the real handlers: per-engine rate limits, expiring keys, malformed keys, suspension."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

ADMIN = "admin"
SEND = {"platform": "gmail", "action_type": "send_email"}


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    return (ADMIN, admin_key)


def _register(invoke, admin, engine_id: str, **body) -> tuple[str, str]:
    body = {"engine_id": engine_id, "permissions": {"gmail": ["send_email"]}, **body}
    reply = invoke("register/register", engine=admin, body=body)
    assert reply.status == 201, reply.body
    return (engine_id, reply.body["engine_key"])


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


# --- rate limits -------------------------------------------------------------------------------


def test_past_its_burst_an_engine_gets_429_with_retry_after_and_ratelimit_headers(aws, admin, invoke):
    # Given: an engine allowed 1 request a second, 3 at once
    engine = _register(invoke, admin, "looper", rate_limit={"per_second": 1, "burst": 3})
    # When: it checks five times at once
    replies = [invoke("check/check", engine=engine, body=SEND) for _ in range(5)]
    # Then: three answers, then 429 rate_limited in the envelope, with when to retry
    assert [r.status for r in replies] == [200, 200, 200, 429, 429]
    assert [r.headers["RateLimit-Remaining"] for r in replies[:3]] == ["2", "1", "0"]
    assert all(r.headers["RateLimit-Limit"] == "3" for r in replies)
    refused = replies[3]
    assert refused.body["error"]["code"] == "rate_limited" and set(refused.body) == {"error", "request_id"}
    assert refused.headers["Retry-After"] == "1" and int(refused.headers["RateLimit-Reset"]) >= 1
    # and another engine is untouched by it
    other = _register(invoke, admin, "calm")
    assert invoke("check/check", engine=other, body=SEND).status == 200


def test_every_authenticated_route_is_limited_and_answers_the_headers(aws, admin, invoke):
    engine = _register(invoke, admin, "busy", rate_limit={"per_second": 0.5, "burst": 2})
    assert invoke("register/validate", engine=engine).headers["RateLimit-Remaining"] == "1"
    assert invoke("config/global_config", engine=engine).status == 200
    reply = invoke("register/validate", engine=engine)
    assert reply.status == 429 and reply.headers["Retry-After"] == "2"


def test_a_batch_of_25_counts_25(aws, admin, invoke):
    engine = _register(invoke, admin, "batcher", rate_limit={"per_second": 1, "burst": 30})
    first = invoke("check/check", engine=engine, body={"checks": [SEND] * 25})
    assert first.status == 200 and first.headers["RateLimit-Remaining"] == "5"
    second = invoke("check/check", engine=engine, body={"checks": [SEND] * 25})
    assert second.status == 429 and second.body["error"]["code"] == "rate_limited"


def test_a_batch_decides_each_distinct_question_once_and_audits_counts_and_charges_every_check(
    aws, admin, invoke, monkeypatch
):
    from puraify import wiring
    from puraify.engine_control import checks

    # Given: an engine that asks 25 checks, 2 distinct questions (one of them denied) among them
    engine = _register(invoke, admin, "repeater", rate_limit={"per_second": 1, "burst": 30})
    evaluated = []

    def counted(*args, **kwargs):
        evaluated.append(args[3:5])
        return decide(*args, **kwargs)

    decide = checks.evaluate
    monkeypatch.setattr(checks, "evaluate", counted)
    denied = {"platform": "gmail", "action_type": "read_email"}
    batch = [SEND if n % 5 else denied for n in range(25)]
    # When
    reply = invoke("check/check", engine=engine, body={"checks": batch})
    # Then: each question was evaluated once, and every check was answered, charged, audited and counted
    assert reply.status == 200, reply.body
    assert sorted(evaluated) == [("gmail", "read_email"), ("gmail", "send_email")]
    assert [r["allowed"] for r in reply.body["results"]] == [bool(n % 5) for n in range(25)]
    assert {r["rule"] for r in reply.body["results"] if not r["allowed"]} == {"not_granted"}
    assert reply.headers["RateLimit-Remaining"] == "5"
    records = _audited(aws, "repeater")
    assert sorted(r["item"] for r in records) == list(range(25))
    assert sorted(r["status"] for r in records) == ["allowed"] * 20 + ["denied"] * 5
    assert {r["details"]["rule"] for r in records if r["status"] == "denied"} == {"not_granted"}
    wiring.current().engine_control.counter.flush()
    items = aws.partition("AggregatesTable", "CHECKS")
    counted = {k: sum(int(i.get(f"engine#repeater#{k}", {"N": "0"})["N"]) for i in items) for k in ("checks", "denied")}
    assert counted == {"checks": 25, "denied": 5}


def test_429s_are_counted_per_engine_and_audited(aws, admin, invoke, capsys):
    from puraify import wiring

    engine = _register(invoke, admin, "noisy", rate_limit={"per_second": 1, "burst": 1})
    for _ in range(4):
        invoke("check/check", engine=engine, body=SEND)
    wiring.current().engine_control.counter.flush()
    items = aws.partition("AggregatesTable", "CHECKS")
    limited = sum(int(i.get("engine#noisy#limited", {"N": "0"})["N"]) for i in items)
    assert limited == 3


def test_a_limit_set_by_put_permissions_applies_at_once_and_null_restores_the_default(aws, admin, invoke):
    engine = _register(invoke, admin, "tuned")
    body = {"permissions": {"gmail": ["send_email"]}, "rate_limit": {"per_second": 1, "burst": 1}}
    put = invoke("register/permissions", engine=admin, path_params={"engine_id": "tuned"}, body=body)
    assert put.status == 200 and put.body["rate_limit"] == {"per_second": 1.0, "burst": 1, "events_per_second": None}
    assert invoke("check/check", engine=engine, body=SEND).status == 200
    assert invoke("check/check", engine=engine, body=SEND).status == 429
    body["rate_limit"] = None
    invoke("register/permissions", engine=admin, path_params={"engine_id": "tuned"}, body=body)
    assert invoke("check/check", engine=engine, body=SEND).headers["RateLimit-Limit"] == "250"


def test_a_bad_rate_limit_is_422_naming_the_field(aws, admin, invoke):
    body = {"engine_id": "bad", "rate_limit": {"per_second": 0, "burst": 1}}
    reply = invoke("register/register", engine=admin, body=body)
    assert reply.status == 422
    assert reply.body["error"]["details"][0]["field"] == "body.rate_limit.per_second"


# --- expiring keys and malformed keys ----------------------------------------------------------


def test_an_expired_key_gets_the_unknown_engine_401_at_once(aws, admin, invoke):
    # Given: a key that expires in a second, seen (and cached) while it works
    engine = _register(invoke, admin, "shortlived", expires_at=_in(1.2))
    assert invoke("register/validate", engine=engine).status == 200
    listed = invoke("register/list", engine=admin).body["engines"]
    assert next(e for e in listed if e["engine_id"] == "shortlived")["expires_at"] is not None
    # When: it expires (well within the cache TTL)
    time.sleep(1.3)
    expired = invoke("register/validate", engine=engine)
    unknown = invoke("register/validate", engine=("nobody", engine[1]))
    # Then: the same 401 as an unknown engine
    assert expired.status == unknown.status == 401
    assert expired.body["error"] == unknown.body["error"]


def test_rotation_sets_a_new_expiry_and_a_past_one_is_422(aws, admin, invoke):
    engine = _register(invoke, admin, "rotated", expires_at=_in(3600))
    path = {"engine_id": "rotated"}
    past = invoke("register/rotate", engine=admin, path_params=path, body={"expires_at": _in(-5)})
    assert past.status == 422 and past.body["error"]["details"][0]["field"] == "body.expires_at"
    reply = invoke("register/rotate", engine=admin, path_params=path, body={"expires_at": _in(86400)})
    assert reply.status == 200 and reply.body["expires_at"] > _in(86000)[:19]
    assert invoke("register/validate", engine=("rotated", reply.body["engine_key"])).status == 200
    assert engine[1] != reply.body["engine_key"]


@pytest.mark.parametrize("key", ["pfk_short", "xyz_" + "a" * 43, "pfk_" + "a" * 20 + "!" + "a" * 22, "a" * 47])
def test_a_malformed_key_gets_the_wrong_key_answer_without_a_store_read(aws, admin, invoke, key):
    from puraify import wiring

    engine = _register(invoke, admin, "target")
    wrong = invoke("register/validate", engine=("target", "pfk_" + "w" * 43))
    wiring.current().auth.cache.invalidate()
    reads: list[str] = []
    loader = wiring.current().auth._load
    wiring.current().auth._load = lambda engine_id: reads.append(engine_id) or loader(engine_id)
    try:
        malformed = invoke("register/validate", engine=(engine[0], key))
    finally:
        wiring.current().auth._load = loader
    assert malformed.status == wrong.status == 401
    assert malformed.body["error"] == wrong.body["error"]
    assert {k for k in malformed.headers if not k.startswith("RateLimit")} == set(wrong.headers)
    assert reads == []


# --- suspension --------------------------------------------------------------------------------


def test_a_suspended_engine_gets_403_on_every_call_and_its_checks_are_audited_denied(aws, admin, invoke):
    engine = _register(invoke, admin, "rogue")
    assert invoke("check/check", engine=engine, body=SEND).status == 200
    # When: an admin suspends it
    path = {"engine_id": "rogue"}
    reply = invoke("register/suspend", engine=admin, path_params=path, body={"reason": "runaway loop"})
    assert reply.status == 200 and reply.body["suspended"]["reason"] == "runaway loop"
    assert reply.body["suspended"]["by"] == ADMIN
    # Then: every authenticated call is 403 engine_suspended, at once
    for name, body in (("check/check", SEND), ("check/check", {"checks": [SEND, SEND]}), ("register/validate", None)):
        refused = invoke(name, engine=engine, body=body)
        assert refused.status == 403 and refused.body["error"]["code"] == "engine_suspended", name
    checks = [r for r in _audited(aws, "rogue") if r["status"] == "denied"]
    assert len(checks) == 3 and all(c["details"]["rule"] == "engine_suspended" for c in checks)
    shown = invoke("register/show", engine=admin, path_params=path).body
    assert shown["suspended"]["reason"] == "runaway loop" and shown["status"] == "active"
    # And: reinstated, it works again; both changes are in the admin audit with who and why
    back = invoke("register/reinstate", engine=admin, path_params=path, body={"reason": "fixed in 1.4.2"})
    assert back.status == 200 and back.body["suspended"] is None
    assert invoke("check/check", engine=engine, body=SEND).status == 200
    admin_changes = [r for r in _audited(aws, ADMIN, kind="admin") if r["details"]["target"] == "rogue"]
    operations = [(r["details"]["operation"], r["details"].get("reason"), r["engine_id"]) for r in admin_changes]
    assert ("suspend_engine", "runaway loop", ADMIN) in operations
    assert ("reinstate_engine", "fixed in 1.4.2", ADMIN) in operations


def test_suspension_is_admin_only_and_the_last_admin_cannot_be_suspended(aws, admin, invoke):
    engine = _register(invoke, admin, "plain")
    denied = invoke("register/suspend", engine=engine, path_params={"engine_id": "plain"}, body={"reason": "x"})
    assert denied.status == 403 and denied.body["error"]["code"] == "missing_scope"
    last = invoke("register/suspend", engine=admin, path_params={"engine_id": ADMIN}, body={"reason": "x"})
    assert last.status == 409 and last.body["error"]["code"] == "last_admin"
    assert invoke("register/validate", engine=admin).status == 200
    # A second admin makes it possible; then the suspended admin no longer counts as one
    second = _register(invoke, admin, "ops", scopes=["admin"])
    assert (
        invoke("register/suspend", engine=second, path_params={"engine_id": ADMIN}, body={"reason": "x"}).status == 200
    )
    again = invoke("register/suspend", engine=admin, path_params={"engine_id": "ops"}, body={"reason": "x"})
    assert again.status == 403  # the suspended admin cannot act
    demote = {"permissions": {}, "scopes": []}
    gone = invoke("register/permissions", engine=second, path_params={"engine_id": "ops"}, body=demote)
    assert gone.status == 409 and gone.body["error"]["code"] == "last_admin"


def _audited(aws, partition: str, kind: str = "check") -> list[dict]:
    from puraify.store.items import from_item

    items = aws.partition("AuditTable", f"ENGINE#{partition}")
    return [r for r in (from_item(i) for i in items) if r["kind"] == kind]


def test_ingest_counts_one_request_and_its_events_against_events_per_second(aws, admin, invoke):
    limit = {"per_second": 100, "burst": 100, "events_per_second": 1}  # the bucket still holds one full batch
    engine = _register(invoke, admin, "reporter", scopes=["logs:write"], projects=["*"], rate_limit=limit)
    events = [
        {"project_id": "p1", "event_id": f"ev-{i}", "engine": "execution", "platform": "slack", "status": "success"}
        for i in range(300)
    ]
    first = invoke("log/ingest_batch", engine=engine, body={"events": events})
    assert first.status == 202 and first.headers["RateLimit-Remaining"] == "99"  # one request
    second = invoke("log/ingest_batch", engine=engine, body={"events": events})
    assert second.status == 429 and second.body["error"]["code"] == "rate_limited"
    assert int(second.headers["Retry-After"]) >= 90  # the 100 missing events, at one a second
    assert invoke("register/validate", engine=engine).status == 200  # its requests' bucket is apart
