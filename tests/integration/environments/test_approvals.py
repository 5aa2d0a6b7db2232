"""Approvals: a promotion into an environment with ``approvals_required`` waits for other engines.

Real handlers, real boto3 on moto; the Planning gate is the module's fake (it answers as told).
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import load_event

STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create"]}}, "feature_flags": []}
STATE_2 = {"entities": ["User", "Order"], "flows": {"signup": {"steps": ["create", "mail"]}}, "feature_flags": []}
PROJECT = "pf-777"


def _promote(invoke, who, source="staging", target="production", **fields):
    body = {"project_id": PROJECT, "source_env": source, "target_env": target, **fields}
    return invoke("env/promote", engine=who, body=body)


def _config(invoke, who, env, body):
    return invoke("env/config", engine=who, body=body, path_params={"project_id": PROJECT, "environment": env})


def _approve(invoke, who, change_id):
    return invoke("env/approve_change", engine=who, path_params={"project_id": PROJECT, "change_id": change_id})


def _reject(invoke, who, change_id, reason="not now"):
    return invoke(
        "env/reject_change",
        engine=who,
        body={"reason": reason},
        path_params={"project_id": PROJECT, "change_id": change_id},
    )


def _changes(invoke, who, **query):
    return invoke("env/list_changes", engine=who, path_params={"project_id": PROJECT}, query=query)


def _env(invoke, who, name):
    return {e["env"]: e for e in invoke("env/list", engine=who).body["environments"]}[name]


def _history(invoke, who, env="production"):
    return invoke("env/history", engine=who, path_params={"project_id": PROJECT, "environment": env}, query={}).body


@pytest.fixture
def project(admin, gate, invoke):
    """pf-777: v1.0.0 in development and staging, production created empty and needing one approval."""
    assert invoke("env/publish", engine=admin, body={"project_id": PROJECT, "state": STATE}).status == 201
    for name, base in (("staging", "development"), ("production", None)):
        body = {"project_id": PROJECT, "new_environment": name, **({"base_from": base} if base else {})}
        assert invoke("env/create", engine=admin, body=body).status == 201
    reply = _config(invoke, admin, "production", {"approvals_required": 1})
    assert reply.status == 200, reply.body
    assert reply.body["environment"]["approvals_required"] == 1
    return admin


@pytest.fixture
def people(engine):
    """A releaser (may promote into production) and two approvers (env:approve only)."""
    releaser = engine("releaser", "env:read", "env:write", "env:production")
    return releaser, engine("alice", "env:approve", "env:read"), engine("bob", "env:approve", "env:read")


def _audited(change_id: str) -> list[str]:
    from puraify import wiring

    records = wiring.current().audit_store.by_project(PROJECT)
    return sorted(r["action_type"] for r in records if (r.get("details") or {}).get("change_id") == change_id)


# --- turning it on -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, 6, "one", 1.5])
def test_approvals_required_outside_0_to_5_is_a_field_level_422_and_nothing_changes(project, invoke, value):
    reply = _config(invoke, project, "production", {"approvals_required": value})
    assert reply.status == 422, reply.body
    assert reply.body["error"]["details"][0]["field"] == "body.approvals_required"
    assert _env(invoke, project, "production")["revision"] == 2


def test_lowering_approvals_needs_admin_raising_does_not(project, invoke, engine):
    writer = engine("writer", "env:read", "env:write", "env:production")
    lowered = _config(invoke, writer, "production", {"approvals_required": 0})
    assert lowered.status == 403 and lowered.body["error"]["code"] == "missing_scope"
    assert _config(invoke, writer, "production", {"approvals_required": 2}).status == 200
    assert _env(invoke, project, "production")["approvals_required"] == 2
    entry = _history(invoke, project)["entries"][0]
    assert entry["action"] == "config" and entry["changes"]["approvals_required"] == 2


# --- asking ----------------------------------------------------------------------------------------


def test_promotion_into_it_is_202_pending_and_changes_nothing(project, invoke, people, gate):
    releaser, _, _ = people
    before = _env(invoke, project, "production")
    reply = _promote(invoke, releaser)
    assert reply.status == 202, reply.body
    body = reply.body
    assert body["status"] == "pending_approval" and body["change_id"].startswith("chg_")
    assert body["version"] == "v1.0.0" and body["previous_version"] is None
    assert body["diff_from_previous"]["entities_added"] == ["User"]
    assert body["approvals_required"] == 1 and body["change"]["status"] == "pending"
    after = _env(invoke, project, "production")
    assert after["version"] is None and after["revision"] == before["revision"]
    assert gate.calls == []  # the gate judges when it is applied, not when asked
    history = _history(invoke, project)
    assert [c["change_id"] for c in history["change_requests"]] == [body["change_id"]]
    assert _audited(body["change_id"]) == ["change_requested"]


def test_a_second_promotion_while_one_is_pending_is_409_naming_it(project, invoke, people):
    releaser, _, _ = people
    first = _promote(invoke, releaser)
    second = _promote(invoke, project)
    assert second.status == 409, second.body
    assert second.body["error"]["code"] == "change_pending"
    assert first.body["change_id"] in second.body["error"]["message"]
    assert second.body["error"]["details"][0]["change_id"] == first.body["change_id"]


def test_an_idempotent_retry_of_the_promotion_gets_the_same_202(project, invoke, people):
    releaser, _, _ = people
    event = copy.deepcopy(load_event("env/promote"))
    event["headers"]["idempotency-key"] = "promote-into-production-1"
    body = {"project_id": PROJECT, "source_env": "staging", "target_env": "production"}
    first = invoke(event, engine=releaser, body=body)
    again = invoke(event, engine=releaser, body=body)
    assert first.status == again.status == 202, again.body
    assert again.body["change_id"] == first.body["change_id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(_changes(invoke, project).body["changes"]) == 1


# --- who may approve -------------------------------------------------------------------------------


def test_the_requester_cannot_approve_its_own_change(project, invoke, people, engine):
    releaser, _, _ = people
    both = engine("both", "env:read", "env:write", "env:production", "env:approve")
    change_id = _promote(invoke, both).body["change_id"]
    reply = _approve(invoke, both, change_id)
    assert reply.status == 403 and reply.body["error"]["code"] == "self_approval"
    change = _changes(invoke, project).body["changes"][0]
    assert change["status"] == "pending" and change["approvals"] == []
    assert _env(invoke, project, "production")["version"] is None


def test_each_engine_counts_once(project, invoke, people, gate):
    releaser, alice, bob = people
    assert _config(invoke, project, "production", {"approvals_required": 2}).status == 200
    change_id = _promote(invoke, releaser).body["change_id"]
    once = _approve(invoke, alice, change_id)
    twice = _approve(invoke, alice, change_id)
    assert once.status == twice.status == 200
    assert twice.body["status"] == "pending" and [a["engine_id"] for a in twice.body["approvals"]] == [alice[0]]
    assert _env(invoke, project, "production")["version"] is None and gate.calls == []
    applied = _approve(invoke, bob, change_id)
    assert applied.status == 200 and applied.body["status"] == "applied", applied.body
    assert [a["engine_id"] for a in applied.body["approvals"]] == [alice[0], bob[0]]


def test_approving_needs_env_approve_and_writes_nothing_without_it(project, invoke, people):
    releaser, _, _ = people
    change_id = _promote(invoke, releaser).body["change_id"]
    for reply in (
        _approve(invoke, releaser, change_id),
        _reject(invoke, releaser, change_id),
        _changes(invoke, releaser),
    ):
        assert reply.status == 403 and reply.body["error"]["code"] == "missing_scope", reply.body
        assert "env:approve" in reply.body["error"]["message"]
    change = _changes(invoke, project).body["changes"][0]
    assert change["status"] == "pending" and change["approvals"] == [] and len(change["events"]) == 1
    assert _audited(change_id) == ["change_requested"]


# --- applying --------------------------------------------------------------------------------------


def test_the_approval_that_reaches_the_count_runs_the_gated_promotion(project, invoke, people, gate):
    releaser, alice, _ = people
    change_id = _promote(invoke, releaser).body["change_id"]
    reply = _approve(invoke, alice, change_id)
    assert reply.status == 200, reply.body
    change = reply.body
    assert change["status"] == "applied"
    assert change["result"]["status"] == "ready_for_deploy" and change["result"]["version"] == "v1.0.0"
    assert change["result"]["gate"]["decision_id"] == "dec-1"
    assert [e["status"] for e in change["events"]] == ["pending", "approved", "applied"]
    assert gate.calls[-1]["version"] == "v1.0.0" and gate.calls[-1]["environment"] == "production"
    production = _env(invoke, project, "production")
    assert production["version"] == "v1.0.0"
    entry = _history(invoke, project)["entries"][0]
    assert entry["action"] == "promote" and entry["created_by"] == releaser[0]
    assert entry["change_id"] == change_id and entry["approved_by"] == [alice[0]]
    assert _history(invoke, project)["change_requests"][0]["status"] == "applied"
    assert _audited(change_id) == ["change_applied", "change_approved", "change_requested", "promote"]
    # and it is over: approving again is 409, and the next promotion may ask
    again = _approve(invoke, alice, change_id)
    assert again.status == 409 and again.body["error"]["code"] == "change_not_pending"


def test_a_gate_denial_ends_the_change_denied_with_the_reasons(project, invoke, people, gate):
    releaser, alice, _ = people
    change_id = _promote(invoke, releaser).body["change_id"]
    gate.allow, gate.reasons = False, ["error_rate 0.07 exceeds 0.05"]
    reply = _approve(invoke, alice, change_id)
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "denied" and reply.body["reasons"] == ["error_rate 0.07 exceeds 0.05"]
    assert _env(invoke, project, "production")["version"] is None
    assert "change_denied" in _audited(change_id)
    gate.allow, gate.reasons = True, []
    assert _promote(invoke, releaser).status == 202  # the environment may ask again


def test_a_source_that_moved_on_fails_the_change_instead_of_promoting_an_unreviewed_version(project, invoke, people):
    releaser, alice, _ = people
    change_id = _promote(invoke, releaser).body["change_id"]
    invoke("env/publish", engine=project, body={"project_id": PROJECT, "state": STATE_2})
    body = {"project_id": PROJECT, "source_env": "development", "target_env": "staging"}
    assert invoke("env/promote", engine=project, body=body).status == 200
    reply = _approve(invoke, alice, change_id)
    assert reply.body["status"] == "failed" and "source_changed" in reply.body["reason"]
    assert _env(invoke, project, "production")["version"] is None


# --- reject, expiry, rollback ----------------------------------------------------------------------


def test_reject_ends_the_change_with_its_reason_and_who(project, invoke, people):
    releaser, alice, bob = people
    change_id = _promote(invoke, releaser).body["change_id"]
    reply = _reject(invoke, alice, change_id, reason="not during the sale")
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "rejected" and reply.body["reason"] == "not during the sale"
    assert reply.body["events"][-1] == {
        "status": "rejected",
        "by": alice[0],
        "at": reply.body["events"][-1]["at"],
        "reason": "not during the sale",
    }
    late = _approve(invoke, bob, change_id)
    assert late.status == 409 and late.body["error"]["code"] == "change_not_pending"
    assert _env(invoke, project, "production")["version"] is None
    assert _audited(change_id) == ["change_rejected", "change_requested"]
    listed = _changes(invoke, project, status="rejected").body["changes"]
    assert [c["change_id"] for c in listed] == [change_id]
    assert _changes(invoke, project, status="pending").body["changes"] == []


def test_a_reject_without_a_reason_is_422(project, invoke, people):
    releaser, alice, _ = people
    change_id = _promote(invoke, releaser).body["change_id"]
    reply = _reject(invoke, alice, change_id, reason="")
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "body.reason"


def test_pending_changes_expire_after_the_ttl(project, invoke, people):
    from puraify import wiring

    releaser, alice, _ = people
    service = wiring.current().environments
    start = 1_800_000_000.0
    service.clock = lambda: start
    change = _promote(invoke, releaser).body
    assert change["expires_at"].startswith("2027-01-16T")  # 24 h after 2027-01-15T08:00:00Z
    service.clock = lambda: start + 24 * 3600 - 1
    assert _changes(invoke, project, status="pending").body["changes"][0]["change_id"] == change["change_id"]
    service.clock = lambda: start + 24 * 3600
    assert _changes(invoke, project, status="pending").body["changes"] == []
    assert _changes(invoke, project, status="expired").body["changes"][0]["change_id"] == change["change_id"]
    reply = _approve(invoke, alice, change["change_id"])
    assert reply.status == 409 and reply.body["error"]["code"] == "change_expired"
    assert _env(invoke, project, "production")["version"] is None
    assert "change_expired" in _audited(change["change_id"])
    # the environment may ask again
    assert _promote(invoke, releaser).status == 202


def test_an_expired_change_does_not_block_the_next_request(project, invoke, people):
    from puraify import wiring

    releaser, _, _ = people
    service = wiring.current().environments
    service.clock = lambda: 1_800_000_000.0
    first = _promote(invoke, releaser).body["change_id"]
    service.clock = lambda: 1_800_000_000.0 + 25 * 3600
    second = _promote(invoke, releaser)
    assert second.status == 202 and second.body["change_id"] != first
    statuses = {c["change_id"]: c["status"] for c in _changes(invoke, project).body["changes"]}
    assert statuses == {first: "expired", second.body["change_id"]: "pending"}


def test_rollbacks_need_no_approval(project, invoke, people, gate):
    releaser, alice, _ = people
    _approve(invoke, alice, _promote(invoke, releaser).body["change_id"])
    invoke("env/publish", engine=project, body={"project_id": PROJECT, "state": STATE_2})
    body = {"project_id": PROJECT, "source_env": "development", "target_env": "staging"}
    assert invoke("env/promote", engine=project, body=body).status == 200
    _approve(invoke, alice, _promote(invoke, releaser).body["change_id"])
    assert _env(invoke, project, "production")["version"] == "v1.1.0"
    back = {"project_id": PROJECT, "environment": "production", "version": "v1.0.0"}
    reply = invoke("env/rollback", engine=releaser, body=back)
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "rolled_back"
    assert _env(invoke, project, "production")["version"] == "v1.0.0"


def test_an_unknown_change_is_404_and_a_malformed_id_422(project, invoke, people):
    _, alice, _ = people
    assert _approve(invoke, alice, "chg_00000000000000000000000").status == 404
    assert _approve(invoke, alice, "not-a-change").status == 422


def test_the_list_pages_with_a_cursor_and_answers_items_at_the_current_version(project, invoke, people):
    releaser, alice, _ = people
    ids = []
    for _ in range(3):
        change_id = _promote(invoke, releaser).body["change_id"]
        _reject(invoke, alice, change_id)
        ids.append(change_id)
    first = _changes(invoke, project, limit="2")
    assert [c["change_id"] for c in first.body["changes"]] == ids[::-1][:2]
    rest = _changes(invoke, project, limit="2", cursor=first.body["next_cursor"])
    assert [c["change_id"] for c in rest.body["changes"]] == [ids[0]] and rest.body["next_cursor"] is None
    current = invoke(
        "env/list_changes", engine=project, path_params={"project_id": PROJECT}, query={}, version="2026-12-07"
    )
    assert [c["change_id"] for c in current.body["items"]] == ids[::-1]


def test_racing_approvals_count_each_engine_once_and_apply_once(project, invoke, people, engine, gate):
    from concurrent.futures import ThreadPoolExecutor

    releaser, alice, bob = people
    approvers = [alice, bob, engine("carol", "env:approve"), engine("dave", "env:approve")]
    assert _config(invoke, project, "production", {"approvals_required": 2}).status == 200
    change_id = _promote(invoke, releaser).body["change_id"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda who: _approve(invoke, who, change_id), approvers))
    assert all(r.status in (200, 409) for r in replies), [(r.status, r.body) for r in replies]
    assert [r.body["status"] for r in replies if r.status == 200].count("applied") == 1
    change = _changes(invoke, project).body["changes"][0]
    assert change["status"] == "applied" and len(change["approvals"]) == 2
    assert len({a["engine_id"] for a in change["approvals"]}) == 2
    assert len(gate.calls) == 1
    promotions = [e for e in _history(invoke, project)["entries"] if e["action"] == "promote"]
    assert [e["change_id"] for e in promotions] == [change_id]


# --- an approval cut off while it applies ------------------------------------------------------------


class _CutOff(BaseException):
    """The instance stopping mid-request (a timeout, a kill): nothing after this point runs."""


def _cut_off_while_applying(monkeypatch, invoke, people, *, after_promotion: bool) -> tuple[object, str]:
    """Alice's approval reaches the count, and its request stops before the change records the outcome."""
    from puraify import wiring

    releaser, alice, _ = people
    service = wiring.current().environments
    start = 1_800_000_000.0
    service.clock = lambda: start
    change_id = _promote(invoke, releaser).body["change_id"]
    promote = service._promote

    def stops(*args, **kwargs):
        if after_promotion:
            promote(*args, **kwargs)
        raise _CutOff()

    monkeypatch.setattr(service, "_promote", stops)
    with pytest.raises(_CutOff):
        _approve(invoke, alice, change_id)
    monkeypatch.undo()
    assert _changes(invoke, people[1]).body["changes"][0]["status"] == "applying"
    return service, change_id


def test_a_change_cut_off_before_its_promotion_ran_fails_and_frees_the_environment(
    project, invoke, people, monkeypatch
):
    from puraify.environments.change_requests import APPLY_DEADLINE_SECONDS

    releaser = people[0]
    service, change_id = _cut_off_while_applying(monkeypatch, invoke, people, after_promotion=False)
    # Within the deadline the approval's request may still be running: the environment waits for it
    service.clock = lambda: 1_800_000_000.0 + APPLY_DEADLINE_SECONDS - 1
    waiting = _promote(invoke, releaser)
    assert waiting.status == 409 and waiting.body["error"]["code"] == "change_pending"
    # Past it, the next request settles the change: nothing ran, so it failed, and the new one may ask
    service.clock = lambda: 1_800_000_000.0 + APPLY_DEADLINE_SECONDS
    asked = _promote(invoke, releaser)
    assert asked.status == 202, asked.body
    changes = {c["change_id"]: c for c in _changes(invoke, people[1]).body["changes"]}
    settled = changes[change_id]
    assert settled["status"] == "failed" and "promote again" in settled["reason"]
    assert [e["status"] for e in settled["events"]] == ["pending", "approved", "failed"]
    assert settled["events"][-1]["by"] == "system"
    assert _env(invoke, project, "production")["version"] is None
    assert "change_failed" in _audited(change_id)


def test_a_change_cut_off_after_its_promotion_ran_is_recorded_applied(project, invoke, people, monkeypatch):
    from puraify.environments.change_requests import APPLY_DEADLINE_SECONDS

    releaser = people[0]
    service, change_id = _cut_off_while_applying(monkeypatch, invoke, people, after_promotion=True)
    assert _env(invoke, project, "production")["version"] == "v1.0.0"  # the promotion had run
    invoke("env/publish", engine=project, body={"project_id": PROJECT, "state": STATE_2})
    body = {"project_id": PROJECT, "source_env": "development", "target_env": "staging"}
    assert invoke("env/promote", engine=project, body=body).status == 200
    service.clock = lambda: 1_800_000_000.0 + APPLY_DEADLINE_SECONDS
    assert _promote(invoke, releaser).status == 202
    settled = {c["change_id"]: c for c in _changes(invoke, people[1]).body["changes"]}[change_id]
    assert settled["status"] == "applied" and settled["events"][-1]["by"] == "system"
    assert "change_applied" in _audited(change_id)


def test_every_function_stops_well_before_an_applying_change_counts_as_cut_off():
    from local.template import Template
    from puraify.environments.change_requests import APPLY_DEADLINE_SECONDS

    template = Template()
    default = int(template.body["Globals"]["Function"].get("Timeout", 3))
    functions = template.of_type("AWS::Serverless::Function")
    timeouts = {name: int(props.get("Timeout", default)) for name, props in functions.items()}
    assert timeouts and max(timeouts.values()) * 2 <= APPLY_DEADLINE_SECONDS, timeouts
