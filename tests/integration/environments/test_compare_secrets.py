"""GET /env/compare is no secret oracle: without ``env:secrets`` no answer depends on a secret's value."""

from __future__ import annotations

import pytest

STATE = {"entities": ["User"], "flows": {"signup": {"steps": ["create_user"]}}, "feature_flags": []}
PROJECT = "pf-777"


def _compare(invoke, who, source, target):
    reply = invoke("env/compare", engine=who, query={"project_id": PROJECT, "source": source, "target": target})
    assert reply.status == 200, reply.body
    return reply.body


def _config(invoke, who, env, variables):
    reply = invoke(
        "env/config",
        engine=who,
        body={"env_variables": variables},
        path_params={"project_id": PROJECT, "environment": env},
    )
    assert reply.status == 200, reply.body


@pytest.fixture
def production(admin, gate, invoke):
    """pf-777's production holding the secret DB_PASSWORD = hunter2 (set by admin)."""
    body = {"project_id": PROJECT, "environment": "development", "state": STATE}
    assert invoke("env/publish", engine=admin, body=body).status == 201
    created = invoke(
        "env/create",
        engine=admin,
        body={
            "project_id": PROJECT,
            "new_environment": "production",
            "env_variables": {
                "DB_PASSWORD": "hunter2",
                "BASE_URL": "https://myapp.com",
                "VAULT_ONLY": {"value": "x", "secret": True},
            },
        },
    )
    assert created.status == 201, created.body
    return admin


def test_guessing_a_production_secret_through_compare_gets_the_same_answer_for_every_guess(production, engine, invoke):
    # Given an engine that may read and write environments, but not read secrets
    attacker = engine("guesser", "env:read", "env:write")
    created = invoke(
        "env/create",
        engine=attacker,
        body={
            "project_id": PROJECT,
            "new_environment": "guess",
            "base_from": "development",
            "env_variables": {"DB_PASSWORD": "letmein", "BASE_URL": "https://myapp.com", "API_TOKEN": "t"},
        },
    )
    assert created.status == 201, created.body
    # When it compares a wrong guess, then the right one, with production (the loop, two rounds)
    wrong = _compare(invoke, attacker, "guess", "production")
    _config(invoke, attacker, "guess", {"DB_PASSWORD": "hunter2"})
    right = _compare(invoke, attacker, "guess", "production")
    # Then both answers are identical: nothing depends on the secret's value
    assert wrong == right
    assert wrong["secrets"] == {
        "only_in_source": ["API_TOKEN"],
        "only_in_target": ["VAULT_ONLY"],
        "in_both": ["DB_PASSWORD"],
        "values_compared": False,
    }
    assert "DB_PASSWORD" not in {v["name"] for v in wrong["variables"]["changed"]}
    assert "hunter2" not in str(wrong) and "letmein" not in str(wrong)


def test_with_env_secrets_compare_says_whether_secret_values_differ(production, engine, invoke):
    # Given an engine holding env:secrets, and a staging whose password differs from production's
    holder = engine("vault", "env:read", "env:write", "env:secrets")
    body = {"project_id": PROJECT, "new_environment": "staging", "env_variables": {"DB_PASSWORD": "letmein"}}
    assert invoke("env/create", engine=holder, body=body).status == 201
    # When it compares, Then the changed secret is named (its values masked)
    differ = _compare(invoke, holder, "staging", "production")
    assert differ["secrets"]["values_compared"] is True and differ["secrets"]["in_both"] == ["DB_PASSWORD"]
    changed = {v["name"]: v for v in differ["variables"]["changed"]}
    assert changed["DB_PASSWORD"] == {"name": "DB_PASSWORD", "secret": True, "source": "********", "target": "********"}
    # And once the values are equal, it is not
    _config(invoke, holder, "staging", {"DB_PASSWORD": "hunter2"})
    same = _compare(invoke, holder, "staging", "production")
    assert "DB_PASSWORD" not in {v["name"] for v in same["variables"]["changed"]}
