"""Environment Manager handlers with real boto3 against the embedded endpoint, driven by events/env/."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

STATE = {
    "entities": ["User", "Order"],
    "flows": {"checkout": {"steps": ["validate", "charge"]}, "signup": {"steps": ["create_user"]}},
    "feature_flags": ["BETA_FORM"],
}
STATE_2 = {
    "entities": ["User", "Order", {"name": "Notification", "fields": ["title"]}],
    "flows": {"checkout": {"steps": ["validate", "charge", "notify"]}, "signup": {"steps": ["create_user", "mail"]}},
    "feature_flags": ["BETA_FORM", {"name": "NEW_NAV", "enabled": True}],
}


def _publish(invoke, who, state, env="development", project="pf-777", label=None):
    body = {"project_id": project, "environment": env, "state": state}
    if label:
        body["label"] = label
    return invoke("env/publish", engine=who, body=body)


def _create(invoke, who, name, project="pf-777", **fields):
    return invoke("env/create", engine=who, body={"project_id": project, "new_environment": name, **fields})


def _promote(invoke, who, source, target, project="pf-777", **fields):
    body = {"project_id": project, "source_env": source, "target_env": target, **fields}
    return invoke("env/promote", engine=who, body=body)


def _config(invoke, who, env, body, project="pf-777"):
    return invoke("env/config", engine=who, body=body, path_params={"project_id": project, "environment": env})


def _history(invoke, who, env, project="pf-777", **query):
    return invoke(
        "env/history",
        engine=who,
        path_params={"project_id": project, "environment": env},
        query={k: str(v) for k, v in query.items()},
    )


@pytest.fixture
def pipeline(admin, gate, invoke):
    """pf-777 with development and staging on v1.0.0 and an empty production with its own API_KEY."""
    assert _publish(invoke, admin, STATE).status == 201
    reply = _create(
        invoke,
        admin,
        "staging",
        base_from="development",
        env_variables={"API_KEY": "stg-xxxxxx", "BASE_URL": "https://staging.myapp.com"},
    )
    assert reply.status == 201, reply.body
    reply = _create(
        invoke, admin, "production", env_variables={"API_KEY": "prod-key-1", "BASE_URL": "https://myapp.com"}
    )
    assert reply.status == 201, reply.body
    return admin


# --- versions ----------------------------------------------------------------------------


def test_publish_returns_201_then_identical_retry_returns_200_with_same_version(admin, invoke):
    first = invoke("env/publish", engine=admin)
    assert first.status == 201, first.body
    assert first.body["version"] == "v1.5.0" and first.body["created"] is True
    again = invoke("env/publish", engine=admin)
    assert again.status == 200
    assert again.body["version"] == "v1.5.0" and again.body["created"] is False


def test_publish_bumps_minor_for_logic_and_patch_for_flags_only(admin, invoke):
    assert _publish(invoke, admin, STATE).body["version"] == "v1.0.0"
    assert _publish(invoke, admin, STATE_2).body["version"] == "v1.1.0"
    flags_only = {**STATE_2, "feature_flags": ["BETA_FORM"]}
    reply = _publish(invoke, admin, flags_only)
    assert reply.body["version"] == "v1.1.1" and reply.body["bump"] == "patch"


def test_publish_existing_label_with_other_state_is_409_and_version_unchanged(admin, invoke, env_aws):
    assert _publish(invoke, admin, STATE, label="v2.0.0").status == 201
    reply = _publish(invoke, admin, STATE_2, label="v2.0.0")
    assert reply.status == 409 and reply.body["error"]["code"] == "label_exists"
    item = env_aws.client("dynamodb").get_item(
        TableName=env_aws.name("VersionsTable"), Key={"project_id": {"S": "pf-777"}, "label": {"S": "v2.0.0"}}
    )["Item"]
    assert "Notification" not in item["state"]["S"]


# --- environments and secrets ------------------------------------------------------------


def test_create_links_base_version_and_returns_contract_fields(admin, gate, invoke):
    assert invoke("env/publish", engine=admin).status == 201
    reply = invoke("env/create", engine=admin)
    assert reply.status == 201, reply.body
    assert {k: reply.body[k] for k in ("status", "env", "linked_version", "url")} == {
        "status": "env_created",
        "env": "staging",
        "linked_version": "v1.5.0",
        "url": "https://preview.puraify.app/pf-777/staging",
    }
    assert reply.body["variables"]["API_KEY"] == {"value": "********", "secret": True}
    assert reply.body["variables"]["BASE_URL"] == {"value": "https://staging.myapp.com", "secret": False}


def test_create_retry_is_idempotent_but_a_different_create_is_409(pipeline, invoke):
    body = {"base_from": "development", "env_variables": {"BASE_URL": "https://qa"}}
    first = _create(invoke, pipeline, "qa", **body)
    again = _create(invoke, pipeline, "qa", **body)
    assert first.status == again.status == 201 and again.body["revision"] == 1
    other = _create(invoke, pipeline, "qa", base_from="staging")
    assert other.status == 409 and other.body["error"]["code"] == "env_exists"


def test_secrets_live_in_secrets_manager_per_environment_and_never_in_dynamodb(pipeline, env_aws):
    sm = env_aws.client("secretsmanager")
    prefix = f"puraify/{env_aws.template.prefix.rstrip('-')}/env/pf-777"
    staging = sm.get_secret_value(SecretId=f"{prefix}/staging/API_KEY")["SecretString"]
    production = sm.get_secret_value(SecretId=f"{prefix}/production/API_KEY")["SecretString"]
    assert (staging, production) == ("stg-xxxxxx", "prod-key-1")
    dump = json.dumps(env_aws.client("dynamodb").scan(TableName=env_aws.name("EnvironmentsTable"))["Items"])
    assert "stg-xxxxxx" not in dump and "prod-key-1" not in dump
    assert f"{prefix}/staging/API_KEY" in dump  # a reference only


def test_list_shows_versions_revisions_and_masked_variables(pipeline, invoke):
    reply = invoke("env/list", engine=pipeline)
    assert reply.status == 200
    envs = {e["env"]: e for e in reply.body["environments"]}
    assert list(envs) == ["development", "staging", "production"]
    assert envs["staging"]["version"] == "v1.0.0" and envs["production"]["version"] is None
    assert envs["production"]["variables"]["API_KEY"]["value"] == "********"
    assert all(e["config_revision"] == 1 and e["expires_at"] is None for e in envs.values())


# --- promotion ---------------------------------------------------------------------------


def test_promote_into_production_consults_gate_and_reports_the_diff(pipeline, gate, invoke):
    # Given production runs v1.0.0, then v1.1.0 reaches staging and production's key is rotated
    assert _promote(invoke, pipeline, "staging", "production").status == 200
    _publish(invoke, pipeline, STATE_2)
    assert _promote(invoke, pipeline, "development", "staging").status == 200
    assert _config(invoke, pipeline, "production", {"env_variables": {"API_KEY": "prod-key-2"}}).status == 200
    # When
    reply = invoke("env/promote", engine=pipeline)
    # Then
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "ready_for_deploy"
    assert reply.body["version"] == "v1.1.0" and reply.body["environment"] == "production"
    assert reply.body["diff_from_previous"] == {
        "entities_added": ["Notification"],
        "entities_removed": [],
        "logic_changed": 2,
        "env_updated": ["API_KEY"],
    }
    assert gate.calls[-1]["version"] == "v1.1.0"
    assert gate.calls[-1]["deployment_id"] == reply.body["deployment_id"]
    entry = _history(invoke, pipeline, "production", limit=1).body["entries"][0]
    assert entry["gate_decision_id"] == reply.body["gate"]["decision_id"]


def test_promote_retry_is_answered_already_deployed_without_a_new_history_entry(pipeline, invoke):
    first = _promote(invoke, pipeline, "staging", "production")
    again = _promote(invoke, pipeline, "staging", "production")
    assert first.body["status"] == "ready_for_deploy" and again.body["status"] == "already_deployed"
    assert again.body["revision"] == first.body["revision"]
    assert len(_history(invoke, pipeline, "production").body["entries"]) == 2


def test_gate_denial_is_403_with_reasons_and_production_is_unchanged(pipeline, gate, invoke):
    gate.allow, gate.reasons = False, ["error_rate 0.07 exceeds 0.05"]
    reply = _promote(invoke, pipeline, "staging", "production")
    assert reply.status == 403
    assert reply.body["error"]["code"] == "promotion_denied"
    assert {"reason": "error_rate 0.07 exceeds 0.05"} in reply.body["error"]["details"]
    production = {e["env"]: e for e in invoke("env/list", engine=pipeline).body["environments"]}["production"]
    assert production["version"] is None and production["revision"] == 1


def test_promote_with_real_gate_without_policy_fails_closed(pipeline, invoke):
    from puraify import wiring
    from puraify.wiring import production_gate

    wiring.current().environments.gate = production_gate(wiring.current())
    reply = _promote(invoke, pipeline, "staging", "production")
    assert reply.status in (403, 503), reply.body
    production = {e["env"]: e for e in invoke("env/list", engine=pipeline).body["environments"]}["production"]
    assert production["version"] is None


@pytest.mark.parametrize(
    ("source", "target", "status", "code"),
    [
        ("staging", "staging", 409, "same_environment"),
        ("staging", "pr-1", 409, "target_is_preview"),
        ("empty", "staging", 409, "empty_source"),
        ("nowhere", "staging", 404, "env_not_found"),
    ],
)
def test_promote_bad_requests_are_refused_with_a_reason(pipeline, invoke, source, target, status, code):
    _create(invoke, pipeline, "pr-1", base_from="development", preview=True)
    _create(invoke, pipeline, "empty")
    reply = _promote(invoke, pipeline, source, target)
    assert reply.status == status and reply.body["error"]["code"] == code
    assert reply.body["error"]["message"]


def test_unknown_project_is_404(admin, invoke):
    reply = _promote(invoke, admin, "staging", "production", project="pf-nope")
    assert reply.status == 404 and reply.body["error"]["code"] == "project_not_found"
    assert invoke("env/list", engine=admin, path_params={"project_id": "pf-nope"}).status == 404


def test_twenty_concurrent_promotions_one_wins_the_rest_409_and_history_is_complete(pipeline, invoke):
    # Given staging is ahead of production, and all racers read production at revision 1
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(
            pool.map(lambda _: _promote(invoke, pipeline, "staging", "production", expected_revision=1), range(20))
        )
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] + [409] * 19, statuses
    losers = [r for r in replies if r.status == 409]
    assert all(r.body["error"]["details"][0]["current_revision"] == 2 for r in losers)
    entries = _history(invoke, pipeline, "production").body["entries"]
    assert [(e["revision"], e["action"]) for e in entries] == [(2, "promote"), (1, "create")]


def test_racing_promotions_of_different_versions_lose_no_update(pipeline, invoke):
    # Given 8 environments, each running its own version
    for i in range(8):
        _publish(invoke, pipeline, {**STATE, "entities": ["User", f"E{i}"]})
        assert _create(invoke, pipeline, f"src-{i}", base_from="development").status == 201
    # When all of them are promoted into staging at once (no expected revision: the store decides)
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda i: _promote(invoke, pipeline, f"src-{i}", "staging"), range(8)))
    # Then every winner has exactly one history entry, in revision order, and the head is the last winner
    assert all(r.status in (200, 409) for r in replies), [r.body for r in replies]
    won = {r.body["revision"]: r.body["version"] for r in replies if r.status == 200}
    assert all(r.body["error"]["code"] == "revision_conflict" for r in replies if r.status == 409)
    entries = [e for e in _history(invoke, pipeline, "staging").body["entries"] if e["action"] == "promote"]
    assert {e["revision"]: e["version"] for e in entries} == won
    staging = {e["env"]: e for e in invoke("env/list", engine=pipeline).body["environments"]}["staging"]
    assert staging["revision"] == max(won) and staging["version"] == won[max(won)]


def test_stale_write_is_refused_by_the_store_with_the_current_revision(pipeline):
    from puraify import wiring
    from puraify.environments.errors import RevisionConflict

    store = wiring.current().environments.store
    _, found = store.load("pf-777", ["staging"])
    stale = found["staging"].model_copy(update={"revision": 2})
    store.put_environment(stale, expected_revision=1)
    with pytest.raises(RevisionConflict) as error:
        store.put_environment(stale.model_copy(update={"revision": 2}), expected_revision=1)
    assert error.value.current_revision == 2


def test_concurrent_config_changes_are_serialized_and_no_history_entry_is_lost(pipeline, invoke):
    def change(i: int):
        return _config(invoke, pipeline, "staging", {"env_variables": {f"VAR_{i}": str(i)}})

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(change, range(20)))
    won = [r for r in replies if r.status == 200]
    assert won and all(r.status in (200, 409) for r in replies)
    assert all("current_revision" in r.body["error"]["details"][0] for r in replies if r.status == 409)
    entries = _history(invoke, pipeline, "staging", limit=200).body["entries"]
    revisions = [e["revision"] for e in entries]
    assert revisions == list(range(len(won) + 1, 0, -1))  # one entry per winner, no gaps
    changed = sorted(e["changes"]["env_vars_changed"][0] for e in entries if e["action"] == "config")
    assert changed == sorted(r.body["changes"]["env_vars_changed"][0] for r in won)


# --- rollback, config, compare, history --------------------------------------------------


def test_rollback_restores_version_and_configuration_of_that_version(pipeline, invoke):
    assert _promote(invoke, pipeline, "staging", "production").status == 200
    _publish(invoke, pipeline, STATE_2)
    _promote(invoke, pipeline, "development", "staging")
    _promote(invoke, pipeline, "staging", "production")
    _config(invoke, pipeline, "production", {"env_variables": {"BASE_URL": "https://v2.myapp.com", "API_KEY": "k2"}})
    reply = invoke(
        "env/rollback", engine=pipeline, body={"project_id": "pf-777", "environment": "production", "version": "v1.0.0"}
    )
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "rolled_back" and reply.body["previous_version"] == "v1.1.0"
    env = reply.body["environment"]
    assert env["version"] == "v1.0.0" and env["variables"]["BASE_URL"]["value"] == "https://myapp.com"
    compare = invoke(
        "env/compare", engine=pipeline, query={"project_id": "pf-777", "source": "production", "target": "production"}
    )
    assert compare.body["variables"] == {"added": [], "removed": [], "changed": []}
    assert _history(invoke, pipeline, "production", limit=1).body["entries"][0]["action"] == "rollback"


def test_rollback_unknown_version_is_404_and_never_run_version_is_409(pipeline, invoke):
    body = {"project_id": "pf-777", "environment": "production", "version": "v9.9.9"}
    assert invoke("env/rollback", engine=pipeline, body=body).status == 404
    reply = invoke("env/rollback", engine=pipeline, body={**body, "version": "v1.0.0"})
    assert reply.status == 409 and reply.body["error"]["code"] == "version_never_deployed"


def test_config_change_is_a_new_revision_and_a_retry_changes_nothing(pipeline, invoke):
    body = {"env_variables": {"BASE_URL": "https://staging2.myapp.com", "DB_PASSWORD": "pw", "API_KEY": None}}
    first = invoke("env/config", engine=pipeline, body=body)
    assert first.status == 200 and first.body["status"] == "updated"
    assert first.body["changes"]["env_vars_changed"] == ["API_KEY", "BASE_URL", "DB_PASSWORD"]
    assert first.body["environment"]["config_revision"] == 2
    assert "API_KEY" not in first.body["environment"]["variables"]
    again = invoke("env/config", engine=pipeline, body=body)
    assert (
        again.body["status"] == "unchanged"
        and again.body["environment"]["revision"] == first.body["environment"]["revision"]
    )


def test_compare_lists_variable_and_flag_differences_with_secrets_masked(pipeline, invoke):
    _config(
        invoke, pipeline, "production", {"feature_flags": {"BETA_FORM": False}, "env_variables": {"ONLY_PROD": "1"}}
    )
    reply = invoke("env/compare", engine=pipeline)
    assert reply.status == 200, reply.body
    variables = reply.body["variables"]
    assert [v["name"] for v in variables["removed"]] == ["ONLY_PROD"]
    changed = {v["name"]: v for v in variables["changed"]}
    assert changed["API_KEY"] == {"name": "API_KEY", "secret": True, "source": "********", "target": "********"}
    assert changed["BASE_URL"]["source"] == "https://staging.myapp.com"
    assert reply.body["feature_flags"] == [{"name": "BETA_FORM", "source": True, "target": False}]
    assert reply.body["version"]["source"] == "v1.0.0" and reply.body["version"]["target"] is None
    assert "stg-xxxxxx" not in json.dumps(reply.body)


def test_history_entries_have_the_documented_shape_and_page_by_revision(pipeline, invoke):
    for i in range(3):
        _config(invoke, pipeline, "staging", {"feature_flags": {"BETA_FORM": i % 2 == 0}})
    page = invoke("env/history", engine=pipeline, query={"limit": "2"})
    assert page.status == 200
    latest = page.body["entries"][0]
    assert {"project_id", "env", "version", "created_by", "timestamp", "changes"} <= latest.keys()
    assert latest["env"] == "staging" and latest["created_by"] == "admin"
    assert latest["changes"]["feature_flags"] == ["BETA_FORM"]
    rest = _history(invoke, pipeline, "staging", before=page.body["next_before"])
    assert [e["revision"] for e in page.body["entries"] + rest.body["entries"]] == [4, 3, 2, 1]


def test_versions_behind_counts_how_far_production_lags_staging(pipeline, invoke):
    from puraify import wiring

    rt = wiring.current()
    assert rt.environments.versions_behind("pf-777") == 1  # production is empty, staging runs the first version
    _promote(invoke, pipeline, "staging", "production")
    _publish(invoke, pipeline, STATE_2)
    _publish(invoke, pipeline, {**STATE_2, "feature_flags": []})
    _promote(invoke, pipeline, "development", "staging")
    assert rt.environments.versions_behind("pf-777") == 2
    assert rt.environments.versions_behind("pf-777", ahead="nowhere") is None


# --- previews ----------------------------------------------------------------------------


def test_preview_expires_from_reads_and_the_scheduled_sweep_removes_records_and_secrets(
    pipeline, invoke, env_aws, scheduled
):
    from puraify import wiring

    reply = _create(invoke, pipeline, "pr-7", base_from="staging", preview=True, ttl_hours=1)
    assert reply.status == 201 and reply.body["expires_at"]
    service = wiring.current().environments
    later = time.time() + 3601
    service.clock = lambda: later
    listed = [e["env"] for e in invoke("env/list", engine=pipeline).body["environments"]]
    assert "pr-7" not in listed
    assert _history(invoke, pipeline, "pr-7").status == 404
    # When the schedule fires (an EventBridge event, not an HTTP one)
    swept = scheduled("EnvFunction", "env/sweep")
    # Then
    assert swept["sweep"]["removed"] == ["pf-777/pr-7"] and swept["sweep"]["secrets_deleted"] == 1
    sm = env_aws.client("secretsmanager")
    prefix = f"puraify/{env_aws.template.prefix.rstrip('-')}/env/pf-777"
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=f"{prefix}/pr-7/API_KEY")
    assert sm.describe_secret(SecretId=f"{prefix}/staging/API_KEY")["Name"]
    dump = json.dumps(env_aws.client("dynamodb").scan(TableName=env_aws.name("EnvironmentsTable"))["Items"])
    assert "pr-7" not in dump


# --- authorization and bad input ---------------------------------------------------------


def test_scopes_gate_reads_writes_and_production(pipeline, engine, invoke):
    reader = engine("reader", "env:read")
    writer = engine("writer", "env:read", "env:write")
    releaser = engine("releaser", "env:read", "env:write", "env:production")
    assert invoke("env/list", engine=reader).status == 200
    assert _promote(invoke, reader, "development", "staging").status == 403
    assert _promote(invoke, writer, "staging", "production").status == 403
    assert _config(invoke, writer, "production", {"feature_flags": {"X": True}}).status == 403
    assert _promote(invoke, releaser, "staging", "production").status == 200
    nobody = engine("nobody")
    assert invoke("env/list", engine=nobody).status == 403
    assert invoke("env/list", engine=(reader[0], "pfk_wrong")).status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project_id": "pf-777", "new_environment": "Staging"}, "body.new_environment"),
        ({"project_id": "pf-777", "new_environment": "x" * 33}, "body.new_environment"),
        ({"project_id": "pf-777", "new_environment": "pr-1", "preview": True, "ttl_hours": 721}, "body.ttl_hours"),
        ({"project_id": "pf-777", "new_environment": "qa", "surprise": 1}, "body.surprise"),
        ({"project_id": "pf-777", "new_environment": "qa", "env_variables": {"BAD-NAME": "x"}}, "body.env_variables"),
        ({"project_id": "pf-777", "new_environment": "staging", "preview": True}, "body"),
    ],
)
def test_create_invalid_body_is_422_with_field_details(pipeline, invoke, body, field):
    reply = invoke("env/create", engine=pipeline, body=body)
    assert reply.status == 422, reply.body
    fields = [d["field"] for d in reply.body["error"]["details"]]
    assert any(f.startswith(field) for f in fields), fields
    assert "Traceback" not in json.dumps(reply.body)


def test_invalid_label_path_and_query_are_422(pipeline, invoke):
    assert _publish(invoke, pipeline, STATE, label="1.0").status == 422
    reply = invoke("env/list", engine=pipeline, path_params={"project_id": "PF_BAD!"})
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "path.project_id"
    reply = invoke("env/compare", engine=pipeline, query={"project_id": "pf-777", "source": "Staging", "target": "x"})
    assert reply.status == 422
    assert invoke("env/history", engine=pipeline, query={"limit": "0"}).status == 422


def test_oversized_body_is_413_and_nothing_is_written(pipeline, invoke):
    huge = {"entities": [f"E{i}" for i in range(10)], "flows": {"f": "x" * 300_000}}
    reply = _publish(invoke, pipeline, huge)
    assert reply.status == 413
    assert invoke("env/list", engine=pipeline).body["latest_version"] == "v1.0.0"


def test_versions_with_state_reads_the_published_state(admin, invoke, env_aws):
    # Given a published version
    label = _publish(invoke, admin, STATE).body["version"]
    from puraify import wiring

    store = wiring.current().environments.store
    # When it is read with its state (DynamoDB rejects attribute names that no projection uses)
    with_state = store.versions("pf-777", [label], with_state=True)[label]
    summary = store.versions("pf-777", [label])[label]
    # Then the state is the one published, and the summary leaves it out
    assert with_state.state["flows"] == STATE["flows"]
    assert summary.state is None and summary.label == label


def test_promoting_into_a_production_not_yet_created_says_how_to_create_it(admin, gate, invoke):
    # Given a project with development and staging, and no production yet
    assert _publish(invoke, admin, STATE, project="pf-first").status == 201
    assert _create(invoke, admin, "staging", project="pf-first", base_from="development").status == 201
    # When an operator promotes staging into production
    reply = _promote(invoke, admin, "staging", "production", project="pf-first")
    # Then the 404 says how to create it, and then to promote again
    assert reply.status == 404 and reply.body["error"]["code"] == "env_not_found"
    message = reply.body["error"]["message"]
    assert "POST /env/create" in message and "puraify env create pf-first production" in message
    assert "env:production" in message and message.endswith("then promote staging into it again")
    (detail,) = reply.body["error"]["details"]
    assert detail["create"] == {"project_id": "pf-first", "new_environment": "production"}
    # And doing what it says works
    assert invoke("env/create", engine=admin, body=detail["create"]).status == 201
