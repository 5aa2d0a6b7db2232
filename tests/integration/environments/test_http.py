"""End to end: the Environment Manager over HTTP through the local API gateway, as an engine calls it."""

from __future__ import annotations

import uuid

import httpx

ADMIN = {"X-Engine-ID": "admin", "X-Engine-Key": "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"}


def test_publish_create_promote_compare_over_http(plane):
    project = f"pf-{uuid.uuid4().hex[:8]}"
    state = {"entities": ["User"], "flows": {"signup": {"steps": ["create"]}}, "feature_flags": []}
    with httpx.Client(base_url=plane.base_url, headers=ADMIN, timeout=10) as http:
        published = http.post("/env/versions", json={"project_id": project, "state": state})
        assert published.status_code == 201 and published.json()["version"] == "v1.0.0"
        created = http.post(
            "/env/create",
            json={"project_id": project, "new_environment": "staging", "env_variables": {"API_KEY": "k"}},
        )
        assert created.status_code == 201 and created.json()["linked_version"] is None
        promoted = http.post(
            "/env/promote", json={"project_id": project, "source_env": "development", "target_env": "staging"}
        )
        assert promoted.status_code == 200 and promoted.json()["diff_from_previous"]["entities_added"] == ["User"]
        # /env/compare is a route of its own, not the project "compare"
        compared = http.get(
            "/env/compare", params={"project_id": project, "source": "staging", "target": "development"}
        )
        assert compared.status_code == 200
        assert compared.json()["variables"]["added"] == [
            {"name": "API_KEY", "secret": True, "source": "********", "target": None}
        ]
        listed = http.get(f"/env/{project}")
        assert [e["env"] for e in listed.json()["items"]] == ["development", "staging"]
        history = http.get(f"/env/{project}/staging/history")
        assert [e["action"] for e in history.json()["entries"]] == ["promote", "create"]
        # production is gated by the Planning Engine: the change either passes it or nothing happens
        http.post("/env/create", json={"project_id": project, "new_environment": "production"})
        gated = http.post(
            "/env/promote", json={"project_id": project, "source_env": "staging", "target_env": "production"}
        )
        production = next(e for e in http.get(f"/env/{project}").json()["items"] if e["env"] == "production")
        assert (gated.status_code, production["version"]) in ((200, "v1.0.0"), (403, None), (503, None))
        assert http.get(f"/env/{project}", headers={"X-Engine-Key": "pfk_wrong"}).status_code == 401
