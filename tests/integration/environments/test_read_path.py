"""The engines' read path: a version by label, an environment resolved, and conditional GETs."""

from __future__ import annotations

import copy

from tests.conftest import load_event

STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create"]}}, "feature_flags": ["BETA"]}


def _get(invoke, who, event, path_params, etag=None):
    request = copy.deepcopy(load_event(event))
    if etag:
        request["headers"]["if-none-match"] = etag
    return invoke(request, engine=who, path_params=path_params)


def _staging(invoke, admin):
    """pf-777: v1.0.0 in development and staging; staging has a plain variable and a secret."""
    published = invoke("env/publish", engine=admin, body={"project_id": "pf-777", "state": STATE})
    assert published.status == 201
    created = invoke(
        "env/create",
        engine=admin,
        body={
            "project_id": "pf-777",
            "new_environment": "staging",
            "base_from": "development",
            "env_variables": {"REGION": "eu-west-1", "STRIPE_KEY": "sk_live_1"},
        },
    )
    assert created.status == 201, created.body


def test_version_by_label_returns_state_and_metadata_with_an_etag(admin, gate, invoke):
    # Given
    _staging(invoke, admin)
    # When
    reply = _get(invoke, admin, "env/version", {"project_id": "pf-777", "label": "v1.0.0"})
    # Then
    assert reply.status == 200
    assert reply.body["state"] == STATE and reply.body["published_into"] == "development"
    assert reply.body["entities"] == ["User"] and reply.body["feature_flags"] == {"BETA": True}
    assert reply.headers["ETag"].startswith('"')


def test_version_with_current_etag_is_not_modified(admin, gate, invoke):
    _staging(invoke, admin)
    first = _get(invoke, admin, "env/version", {"project_id": "pf-777", "label": "v1.0.0"})
    again = _get(invoke, admin, "env/version", {"project_id": "pf-777", "label": "v1.0.0"}, first.headers["ETag"])
    assert again.status == 304 and again.body is None and again.headers["ETag"] == first.headers["ETag"]
    stale = _get(invoke, admin, "env/version", {"project_id": "pf-777", "label": "v1.0.0"}, '"other"')
    assert stale.status == 200 and stale.body["label"] == "v1.0.0"


def test_version_unknown_or_malformed_label_is_404_or_422(admin, gate, invoke):
    _staging(invoke, admin)
    missing = _get(invoke, admin, "env/version", {"project_id": "pf-777", "label": "v9.9.9"})
    assert missing.status == 404 and missing.body["error"]["code"] == "version_not_found"
    bad = _get(invoke, admin, "env/version", {"project_id": "pf-777", "label": "latest"})
    assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "path.label"


def test_resolved_masks_secrets_for_engines_without_env_secrets(admin, gate, invoke, engine):
    _staging(invoke, admin)
    reader = engine("executor", "env:read")
    reply = _get(invoke, reader, "env/resolved", {"project_id": "pf-777", "environment": "staging"})
    assert reply.status == 200, reply.body
    assert reply.body["version"] == "v1.0.0" and reply.body["state"] == STATE
    assert reply.body["secrets"] == "masked"
    assert reply.body["variables"] == {
        "REGION": {"value": "eu-west-1", "secret": False},
        "STRIPE_KEY": {"value": "********", "secret": True},
    }
    assert reply.body["feature_flags"] == {"BETA": True}


def test_resolved_reveals_secrets_to_env_secrets_and_audits_the_read(admin, gate, invoke, engine):
    from puraify import wiring

    _staging(invoke, admin)
    reader = engine("executor", "env:read", "env:secrets")
    reply = _get(invoke, reader, "env/resolved", {"project_id": "pf-777", "environment": "staging"})
    assert reply.status == 200 and reply.body["secrets"] == "revealed"
    assert reply.body["variables"]["STRIPE_KEY"] == {"value": "sk_live_1", "secret": True}
    reads = [
        r
        for r in wiring.current().audit_store.by_project("pf-777")
        if r.get("action_type") == "read_secrets" and r["engine_id"] == reader[0]
    ]
    assert len(reads) == 1 and reads[0]["details"]["variables"] == ["STRIPE_KEY"]


def test_resolved_poll_is_304_until_the_environment_changes(admin, gate, invoke, engine):
    _staging(invoke, admin)
    reader = engine("executor", "env:read")
    path = {"project_id": "pf-777", "environment": "staging"}
    first = _get(invoke, reader, "env/resolved", path)
    assert _get(invoke, reader, "env/resolved", path, first.headers["ETag"]).status == 304
    changed = invoke("env/config", engine=admin, body={"env_variables": {"REGION": "us-east-1"}}, path_params=path)
    assert changed.status == 200
    after = _get(invoke, reader, "env/resolved", path, first.headers["ETag"])
    assert after.status == 200 and after.body["variables"]["REGION"]["value"] == "us-east-1"
    assert after.headers["ETag"] != first.headers["ETag"]


def test_resolved_masked_and_revealed_answers_have_different_etags(admin, gate, invoke, engine):
    _staging(invoke, admin)
    path = {"project_id": "pf-777", "environment": "staging"}
    masked = _get(invoke, engine("executor", "env:read"), "env/resolved", path)
    revealed = _get(invoke, engine("vault", "env:read", "env:secrets"), "env/resolved", path)
    assert masked.headers["ETag"] != revealed.headers["ETag"]


def test_resolved_needs_env_read_and_an_existing_environment(admin, gate, invoke, engine):
    _staging(invoke, admin)
    nobody = engine("nobody")
    denied = _get(invoke, nobody, "env/resolved", {"project_id": "pf-777", "environment": "staging"})
    assert denied.status == 403 and denied.body["error"]["code"] == "missing_scope"
    missing = _get(invoke, admin, "env/resolved", {"project_id": "pf-777", "environment": "qa"})
    assert missing.status == 404 and missing.body["error"]["code"] == "env_not_found"
