"""A missing environment in the console (issue 26, item 6): the server's 404 `env_not_found` says how to
create it, and the console shows that and creates it on request (Debian's Chromium, local runner).

The environment goes missing as it does in use: a preview expires while its page is open.
"""

from __future__ import annotations

import time

import boto3
from playwright.sync_api import expect

from local.template import Template
from tests.browser.conftest import ADMIN_KEY, open_project, sign_in
from tests.browser.test_console_browser import _publish


def _expire(plane, project: str, env: str) -> None:
    """What time does to a preview: its expiry passes (the sweep has not removed it yet)."""
    table = Template(prefix=plane.prefix).physical_name("EnvironmentsTable")
    past = int(time.time()) - 60
    boto3.client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": f"PROJECT#{project}"}, "sk": {"S": f"ENV#{env}"}},
        UpdateExpression="SET expires_at = :t, preview_expires = :t",
        ExpressionAttributeValues={":t": {"N": str(past)}},
        ConditionExpression="attribute_exists(pk)",
    )


def test_a_missing_environment_shows_how_to_create_it_and_the_console_creates_it(page, api, console_plane):
    # Given a project whose preview pr-7 is listed on the open Environments page
    project = "pf-gone"
    _publish(api, project, "development", ["User"], "v1.0.0")
    made = api.post(
        "/env/create",
        json={
            "project_id": project,
            "new_environment": "pr-7",
            "base_from": "development",
            "preview": True,
            "ttl_hours": 1,
        },
    )
    assert made.status_code == 201, made.text
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Environments").click()
    expect(page.get_by_role("button", name="History of pr-7")).to_be_visible()
    # When it expires and the operator opens its history
    _expire(console_plane, project, "pr-7")
    page.get_by_role("button", name="History of pr-7").click()
    # Then the server's answer says it does not exist and how to create it
    hint = page.get_by_role("alert").filter(has_text="does not exist")
    expect(hint).to_contain_text("create it with POST /env/create")
    expect(hint).to_contain_text(f"puraify env create {project} pr-7")
    expect(hint.get_by_label("From")).to_have_value("development")
    # When the operator takes the offered action
    hint.get_by_role("button", name="Create pr-7").click()
    # Then it is created from development, and its history is shown in place of the hint
    entries = page.locator("section", has_text="History of pr-7").locator("ol.timeline li")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("create revision 1 · v1.0.0 from development by admin")
    expect(hint).to_have_count(0)
    envs = {e["env"]: e for e in api.get(f"/env/{project}").json()["items"]}
    assert envs["pr-7"]["version"] == "v1.0.0" and envs["pr-7"]["revision"] == 1


def test_a_read_only_engine_sees_the_hint_but_no_create_action(page, api, console_plane):
    project = "pf-gone-ro"
    _publish(api, project, "development", ["User"], "v1.0.0")
    made = api.post(
        "/env/create",
        json={
            "project_id": project,
            "new_environment": "pr-8",
            "base_from": "development",
            "preview": True,
            "ttl_hours": 1,
        },
    )
    assert made.status_code == 201, made.text
    key = api.post(
        "/engines/register", json={"engine_id": "env-reader", "scopes": ["env:read"], "projects": [project]}
    ).json()["engine_key"]
    sign_in(page, "env-reader", key)
    open_project(page, project)
    page.get_by_role("link", name="Environments").click()
    expect(page.get_by_role("button", name="History of pr-8")).to_be_visible()
    _expire(console_plane, project, "pr-8")
    page.get_by_role("button", name="History of pr-8").click()
    hint = page.get_by_role("alert").filter(has_text="does not exist")
    expect(hint).to_contain_text(f"puraify env create {project} pr-8")
    expect(hint.get_by_role("button")).to_have_count(0)
