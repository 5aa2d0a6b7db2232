"""The operator console in Debian's Chromium against the local runner: what an operator does with it."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from playwright.sync_api import expect

from puraify.monitoring.overview import minute_key
from tests.browser.conftest import ADMIN_KEY, WRITE_BUTTON, open_project, sign_in

PAGES = ["Overview", "Engines", "Platforms & flags", "Monitoring", "Alert routing", "Audit", "Environments", "Planning"]


def _register(api: httpx.Client, engine_id: str, **body: Any) -> str:
    """A platform-wide engine (every project granted) unless the test names its projects."""
    reply = api.post("/engines/register", json={"engine_id": engine_id, "projects": ["*"], **body})
    assert reply.status_code == 201, reply.text
    return reply.json()["engine_key"]


def _write_buttons(tab: Any) -> list[str]:
    labels = [b.inner_text().strip() for b in tab.get_by_role("button").all()]
    return [label for label in labels if WRITE_BUTTON.match(label)]


def test_sign_in_keeps_the_key_in_this_tab_only_and_sign_out_clears_it(page, shots):
    sign_in(page, "admin", ADMIN_KEY)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    stored = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert ADMIN_KEY in stored
    assert page.evaluate("localStorage.length") == 0 and page.evaluate("document.cookie") == ""
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert ADMIN_KEY not in page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    page.screenshot(path=str(shots / "sign-in.png"))


def test_a_wrong_key_is_refused_and_a_revoked_key_leads_back_to_sign_in(page, api):
    page.goto("/console/")
    page.get_by_label("Engine key").fill("pfk_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    key = _register(api, "ops-revoked", scopes=["logs:read", "plan:read"])
    sign_in(page, "ops-revoked", key)
    assert api.delete("/engines/ops-revoked").status_code == 200
    page.get_by_role("link", name="Planning").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Sign in again")


def test_the_overview_charts_stored_check_counters_and_a_projects_errors(page, api, console_plane, shots):
    # Traffic as the check path's per-minute counters hold it (the contract: pk CHECKS, sk MIN#<minute>).
    table = console_plane_table(console_plane)
    now = time.time()
    for minutes_ago in range(1, 45):
        counts = {
            "allowed": 20 + (minutes_ago * 7) % 13,
            "denied": (minutes_ago * 5) % 4,
            "failed": int(minutes_ago == 17),
        }
        rules = {
            "deny#not_granted": counts["denied"] - int(minutes_ago % 9 == 0),
            "deny#platform_maintenance": int(minutes_ago % 9 == 0),
        }
        put_minute(table, now - minutes_ago * 60, counts, rules)
    key = _register(api, "executor-ov", scopes=["logs:write"])
    failures = [
        {"project_id": "pf-overview", "event_type": "execution", "engine": "executor-ov", "platform": "slack",
         "action": "send_message", "status": "error", "error_type": "rate_limited", "message": f"429 from slack ({i})"}
        for i in range(12)
    ] + [
        {"project_id": "pf-overview", "event_type": "execution", "engine": "executor-ov", "platform": "gmail",
         "action": "send_email", "status": "error", "error_type": "token_expired", "message": "OAuth token expired"}
    ]  # fmt: skip
    engine = {"X-Engine-ID": "executor-ov", "X-Engine-Key": key}
    assert api.post("/monitoring/logs", headers=engine, json={"events": failures}).status_code == 202
    api.post("/plan/decide", json={"deployment_id": "deploy-42", "environment": "staging", "project_id": "pf-overview"})
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-overview")
    expected = sum(20 + (m * 7) % 13 for m in range(1, 45))
    expect(page.locator(".tile", has_text="Checks allowed").locator(".tile-value")).to_have_text(f"{expected:,}")
    rules = page.locator("section", has_text="Top deny rules").get_by_role("row")
    expect(rules.nth(1)).to_contain_text("not_granted")
    expect(rules.nth(2)).to_contain_text("platform_maintenance")
    groups = page.locator("section", has_text="Error groups")
    expect(groups.get_by_role("row", name=re.compile("rate_limited"))).to_contain_text("12")
    expect(page.locator("section", has_text="Latest decisions")).to_contain_text("deploy-42")
    expect(page.locator(".chart canvas")).to_be_visible()
    page.screenshot(path=str(shots / "overview.png"), full_page=True)


def test_an_operator_granted_one_project_sees_its_errors_but_not_every_projects_checks(page, api):
    key = _register(api, "ops-one-project", scopes=["logs:read"], projects=["pf-overview"])
    sign_in(page, "ops-one-project", key)
    open_project(page, "pf-overview")
    expect(page.locator(".tile", has_text="Checks allowed").locator(".tile-value")).to_have_text("–")
    expect(page.locator("section", has_text="Top deny rules")).to_contain_text("shown to engines granted all projects")
    expect(page.locator(".tile", has_text="Errors").locator(".tile-value")).not_to_have_text("–")


def test_a_check_made_through_the_api_appears_on_the_overview(page, api):
    key = _register(api, "mailer", permissions={"gmail": ["send_email"]})
    engine = {"X-Engine-ID": "mailer", "X-Engine-Key": key}
    sign_in(page, "admin", ADMIN_KEY)
    allowed = page.locator(".tile", has_text="Checks allowed").locator(".tile-value")
    denied = page.locator(".tile", has_text="Checks denied").locator(".tile-value")
    expect(allowed).not_to_have_text("–")
    before_allowed, before_denied = (int(t.inner_text().replace(",", "")) for t in (allowed, denied))
    for _ in range(3):
        reply = api.post("/actions/check", headers=engine, json={"platform": "gmail", "action_type": "send_email"})
        assert reply.json()["allowed"] is True
    refused = api.post("/actions/check", headers=engine, json={"platform": "notion", "action_type": "create_page"})
    assert refused.json()["rule"] == "not_granted"
    page.get_by_role("button", name="Refresh").click()
    expect(allowed).to_have_text(f"{before_allowed + 3:,}")
    expect(denied).to_have_text(f"{before_denied + 1:,}")
    expect(page.locator("section", has_text="Top deny rules")).to_contain_text("not_granted")


def test_an_operator_acknowledges_and_resolves_an_alert(page, api):
    alert = {"project_id": "pf-alerts", "event_type": "payment_failures", "severity": "critical"}
    raised = api.post("/monitoring/alert", json={**alert, "message": "Stripe charges failing", "triggered_by": "exec"})
    assert raised.status_code == 201, raised.text
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-alerts")
    expect(page.locator("section.card", has_text="Open alerts")).to_contain_text("Stripe charges failing")
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_role("tab", name="Alerts").click()
    row = page.get_by_role("row", name=re.compile("Stripe charges failing"))
    row.get_by_role("button", name="Acknowledge").click()
    page.get_by_role("dialog").get_by_role("button", name="Acknowledge").click()
    expect(row).to_contain_text("ack by admin")  # the default list is unresolved: open and acknowledged
    page.get_by_label("Show").select_option("open")
    expect(row).to_have_count(0)
    page.get_by_label("Show").select_option("acknowledged")
    row = page.get_by_role("row", name=re.compile("Stripe charges failing"))
    expect(row).to_contain_text("ack by admin")
    row.get_by_role("button", name="Resolve").click()
    page.get_by_role("dialog").get_by_role("button", name="Resolve").click()
    expect(row).to_have_count(0)
    page.get_by_label("Show").select_option("resolved")
    expect(page.get_by_role("row", name=re.compile("Stripe charges failing"))).to_contain_text("resolved by admin")
    stored = api.get("/monitoring/alerts", params={"project_id": "pf-alerts", "status": "resolved"}).json()["items"]
    assert [a["resolved_by"] for a in stored] == ["admin"]


def _publish(api: httpx.Client, project: str, environment: str, entities: list[str], label: str) -> None:
    state = {"entities": entities, "flows": {"checkout": {"steps": entities}}, "feature_flags": ["BETA_FORM"]}
    body = {"project_id": project, "environment": environment, "label": label, "state": state}
    reply = api.post("/env/versions", json=body)
    assert reply.status_code in (200, 201), reply.text


def _staging_promoted(api: httpx.Client, project: str) -> None:
    """``project``'s staging created from development at v1.0.0, then promoted to development's v1.1.0."""
    _publish(api, project, "development", ["User"], "v1.0.0")
    created = api.post(
        "/env/create", json={"project_id": project, "new_environment": "staging", "base_from": "development"}
    )
    assert created.status_code == 201, created.text
    _publish(api, project, "development", ["User", "Order"], "v1.1.0")
    promoted = api.post(
        "/env/promote", json={"project_id": project, "source_env": "development", "target_env": "staging"}
    )
    assert promoted.status_code == 200, promoted.text


def test_an_operator_promotes_an_environment_and_sees_the_diff_and_a_gate_denial(page, api, shots):
    project = "pf-shop"
    _publish(api, project, "development", ["User", "Order"], "v1.0.0")
    variables = {"STRIPE_KEY": {"value": "sk_live_123", "secret": True}, "REGION": "eu"}
    staging = {
        "project_id": project,
        "new_environment": "staging",
        "base_from": "development",
        "env_variables": variables,
    }
    created = api.post("/env/create", json=staging)
    assert created.status_code == 201, created.text
    production = api.post(
        "/env/create", json={"project_id": project, "new_environment": "production", "base_from": "development"}
    )
    assert production.status_code == 201, production.text
    _publish(api, project, "development", ["User", "Order", "Invoice"], "v1.1.0")
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Environments").click()
    page.get_by_label("Source").select_option("development")
    page.get_by_label("Target").select_option("staging")
    compare = page.locator("table.sidebyside")
    expect(compare).to_contain_text("STRIPE_KEY")
    assert "sk_live_123" not in compare.inner_text()
    page.screenshot(path=str(shots / "environments-compare.png"), full_page=True)
    page.get_by_role("button", name="Promote development → staging").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Invoice")
    dialog.get_by_role("button", name="Promote to staging").click()
    result = page.get_by_role("status").filter(has_text="staging now runs")
    expect(result).to_contain_text("v1.1.0")
    expect(result).to_contain_text("Invoice")
    page.screenshot(path=str(shots / "environments-promoted.png"), full_page=True)
    # Into production the gate decides: a change freeze denies it, and the console says why.
    freeze = api.put("/config/flags/deployments", json={"enabled": False, "description": "release freeze"})
    assert freeze.status_code == 200, freeze.text
    page.get_by_label("Source").select_option("staging")
    page.get_by_label("Target").select_option("production")
    page.get_by_role("button", name="Promote staging → production").click()
    page.get_by_role("dialog").get_by_role("button", name="Promote to production").click()
    denied = page.get_by_role("alert").filter(has_text="The gate denied")
    expect(denied).to_contain_text("freeze")
    api.put("/config/flags/deployments", json={"enabled": True, "description": "release freeze"})


def test_a_read_only_engine_sees_no_write_button_on_any_page(page, api, shots):
    key = _register(api, "support-desk", scopes=["logs:read", "plan:read", "env:read"])
    alert = {"project_id": "pf-ro", "event_type": "x", "severity": "high", "message": "something to acknowledge"}
    assert api.post("/monitoring/alert", json={**alert, "triggered_by": "execution"}).status_code == 201
    _publish(api, "pf-ro", "development", ["User"], "v0.1.0")
    api.post("/env/create", json={"project_id": "pf-ro", "new_environment": "staging", "base_from": "development"})
    sign_in(page, "support-desk", key)
    expect(page.get_by_text("read-only")).to_be_visible()
    open_project(page, "pf-ro")
    for name in PAGES:
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert _write_buttons(page) == [], name
    page.get_by_role("link", name="Monitoring", exact=True).click()
    page.get_by_role("tab", name="Alerts").click()
    expect(page.get_by_role("row", name=re.compile("something to acknowledge"))).to_be_visible()
    assert _write_buttons(page) == []
    page.get_by_role("link", name="Environments", exact=True).click()
    page.get_by_role("button", name="History of development").click()
    expect(page.get_by_role("heading", name="History of development")).to_be_visible()
    assert _write_buttons(page) == []


def test_the_console_works_at_390_px_and_with_the_keyboard_alone(browser, console_plane, api, shots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=console_plane.base_url)
    tab = context.new_page()
    tab.goto("/console/")
    tab.get_by_label("Engine id").focus()
    tab.keyboard.press("Tab")
    tab.keyboard.type(ADMIN_KEY)
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(tab.locator(".tile").first).to_be_visible()
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    tab.screenshot(path=str(shots / "overview-390.png"), full_page=True)
    tab.get_by_role("link", name="Platforms & flags").focus()
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Platforms & flags", level=1)).to_be_visible()
    tab.get_by_role("row", name=re.compile("^notion")).get_by_role("button", name="Set maintenance").focus()
    tab.keyboard.press("Enter")
    dialog = tab.get_by_role("dialog")
    expect(dialog).to_contain_text("Set notion to maintenance?")
    tab.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    tab.screenshot(path=str(shots / "platforms-390.png"), full_page=True)
    context.close()


def test_an_admin_changes_a_platform_and_registers_rotates_and_revokes_an_engine(page, api, shots):
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    row = page.get_by_role("row", name=re.compile("^slack"))
    row.get_by_role("button", name="Set maintenance").click()
    page.get_by_role("dialog").get_by_role("button", name="Set maintenance").click()
    expect(row).to_contain_text("maintenance")
    expect(row).to_contain_text("by admin")
    platforms = {p["name"]: p for p in api.get("/platforms/list").json()["items"]}
    assert platforms["slack"]["status"] == "maintenance" and platforms["slack"]["updated_by"] == "admin"
    page.screenshot(path=str(shots / "platforms.png"), full_page=True)
    row.get_by_role("button", name="Make available").click()
    page.get_by_role("dialog").get_by_role("button", name="Set available").click()
    expect(row).to_contain_text("available")

    page.get_by_role("link", name="Engines").click()
    page.get_by_role("button", name="Register an engine").click()
    page.get_by_label("Engine id").fill("builder")
    page.get_by_label("Scopes").fill("logs:write")
    page.get_by_label("Permissions").fill("notion: create_page, update_page")
    page.get_by_role("button", name="Register", exact=True).click()
    key = page.get_by_label("engine key of builder").input_value()
    assert key.startswith("pfk_")
    check = api.post("/engines/validate", headers={"X-Engine-ID": "builder", "X-Engine-Key": key})
    assert check.json()["permissions"] == {"notion": ["create_page", "update_page"]}
    page.screenshot(path=str(shots / "engines-key.png"), full_page=True)
    page.get_by_role("button", name="I have stored it").click()
    row = page.get_by_role("row", name=re.compile("^builder"))
    row.get_by_role("button", name="Rotate key").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate key").click()
    new_key = page.get_by_label("engine key of builder").input_value()
    assert new_key != key and "keeps working until" in page.locator(".reveal").inner_text()
    page.get_by_role("button", name="I have stored it").click()
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("dialog")).to_contain_text("Revoke engine builder?")
    page.get_by_role("dialog").get_by_role("button", name="Revoke builder").click()
    expect(row).to_contain_text("revoked")
    assert api.post("/engines/validate", headers={"X-Engine-ID": "builder", "X-Engine-Key": new_key}).status_code == 401


def _register_in_console(page: Any, engine_id: str, scopes: str, projects: str | None) -> str:
    """Fill the console's register form (projects: None for no grant, "*" for all, else ids); the key shown once."""
    page.get_by_role("button", name="Register an engine").click()
    page.get_by_label("Engine id").fill(engine_id)
    page.get_by_label("Scopes").fill(scopes)
    if projects == "*":
        page.get_by_label("All projects").check()
    elif projects:
        page.get_by_label("These projects").check()
        page.get_by_label("Project ids").fill(projects)
    page.get_by_role("button", name="Register", exact=True).click()
    key = page.get_by_label(f"engine key of {engine_id}").input_value()
    page.get_by_role("button", name="I have stored it").click()
    return key


def test_an_engine_registered_in_the_console_acts_only_in_the_projects_it_was_granted(page, api, shots):
    _publish(api, "pf-granted", "development", ["Order"], "v1.0.0")
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Engines").click()
    granted_key = _register_in_console(page, "shop-writer", "logs:write, env:read", "pf-granted")
    bare_key = _register_in_console(page, "no-project", "logs:write, env:read", None)
    expect(page.get_by_role("row", name=re.compile("^shop-writer"))).to_contain_text("pf-granted")
    bare_row = page.get_by_role("row", name=re.compile("^no-project"))
    expect(bare_row.get_by_role("cell").nth(4)).to_have_text("none")

    granted = {"X-Engine-ID": "shop-writer", "X-Engine-Key": granted_key}
    bare = {"X-Engine-ID": "no-project", "X-Engine-Key": bare_key}
    event = {"project_id": "pf-granted", "event_type": "execution", "status": "success", "message": "from the console"}
    assert api.post("/monitoring/logs", headers=granted, json=event).status_code == 202
    assert api.get("/env/pf-granted", headers=granted).json()["items"][0]["version"] == "v1.0.0"
    for refused in (
        api.post("/monitoring/logs", headers=bare, json=event),
        api.get("/env/pf-granted", headers=bare),
        api.post("/monitoring/logs", headers=granted, json={**event, "project_id": "pf-other"}),
    ):
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "project_not_granted", refused.text

    # Granting every project from the console's access dialog lets the bare engine in.
    bare_row.get_by_role("button", name="Edit access of no-project").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("None")).to_be_checked()
    expect(dialog.get_by_label("Scopes")).to_have_value("env:read, logs:write")
    dialog.get_by_label("All projects").check()
    page.screenshot(path=str(shots / "engines-permissions.png"))
    dialog.get_by_role("button", name="Save access").click()
    expect(dialog).to_have_count(0)
    expect(bare_row.get_by_role("cell").nth(4)).to_have_text("all projects")
    assert api.get("/engines/no-project").json()["projects"] == ["*"]
    assert api.post("/monitoring/logs", headers=bare, json=event).status_code == 202
    assert api.get("/env/pf-granted", headers=bare).status_code == 200


def test_monitoring_searches_logs_pages_them_and_shows_an_event(page, api, shots):
    key = _register(api, "executor", scopes=["logs:write"])
    engine = {"X-Engine-ID": "executor", "X-Engine-Key": key}
    events = [
        {"project_id": "pf-logs", "event_type": "execution", "engine": "executor", "platform": "slack",
         "action": "send_message", "status": "error" if i % 5 == 0 else "success", "flow_id": "flow-7",
         "error_type": "rate_limited" if i % 5 == 0 else None, "message": f"message {i}", "event_id": f"ev-{i:03d}"}
        for i in range(30)
    ]  # fmt: skip
    assert api.post("/monitoring/logs", headers=engine, json={"events": events}).status_code == 202
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-logs")
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_label("Per page").fill("20")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("20 events shown")).to_be_visible()
    page.get_by_role("button", name="Older events").click()
    expect(page.get_by_text("30 events shown")).to_be_visible()
    page.get_by_label("Status").fill("error")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("6 events shown")).to_be_visible()
    page.screenshot(path=str(shots / "monitoring-logs.png"), full_page=True)
    page.get_by_role("button", name="Details of event ev-025").click()
    expect(page.get_by_role("dialog")).to_contain_text('"error_type": "rate_limited"')
    page.keyboard.press("Escape")
    page.get_by_role("tab", name="Error groups").click()
    expect(page.get_by_role("row", name=re.compile("rate_limited"))).to_contain_text("6")
    page.get_by_role("tab", name="Audit timeline").click()
    page.get_by_label("Id").fill("flow-7")
    page.get_by_role("button", name="Show timeline").click()
    expect(page.get_by_text("30 events")).to_be_visible()


def test_planning_shows_decisions_with_reasons_facts_and_the_policy(page, api, shots):
    collect_facts()
    decided = api.post(
        "/plan/decide", json={"deployment_id": "deployment-9", "environment": "staging", "project_id": "pf-plan"}
    )
    assert decided.status_code == 200, decided.text
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-plan")
    page.get_by_role("link", name="Planning").click()
    row = page.get_by_role("row", name=re.compile("deployment-9"))
    expect(row).to_contain_text(decided.json()["outcome"])
    for reason in decided.json()["deny_reasons"]:
        expect(row).to_contain_text(reason)
    facts = page.locator("section", has_text="Facts")
    expect(facts.get_by_role("row", name=re.compile("^change_freeze"))).to_contain_text("fresh")
    expect(page.locator("section", has_text="Policy").first).to_contain_text(decided.json()["policy"]["revision"])
    page.screenshot(path=str(shots / "planning.png"), full_page=True)


def console_plane_table(plane: Any) -> str:
    from local.template import Template

    return Template(prefix=plane.prefix).physical_name("AggregatesTable")


def put_minute(table: str, at: float, counts: dict[str, int], rules: dict[str, int]) -> None:
    """A per-minute check counter as the check path writes it (AggregatesTable, pk CHECKS)."""
    import boto3

    item = {"pk": {"S": "CHECKS"}, "sk": {"S": minute_key(at)}, "expires_at": {"N": str(int(at) + 86400)}}
    item.update({k: {"N": str(v)} for k, v in {**counts, **rules}.items() if v})
    boto3.client("dynamodb").put_item(TableName=table, Item=item)


def collect_facts() -> None:
    """Run the collector once, as its EventBridge schedule would (the test plane fires no schedules)."""
    from local.gateway import LambdaContext, load_handler
    from local.template import Template
    from tests.conftest import load_event

    handler = load_handler(Template().functions()["CollectFunction"])
    handler(load_event("collect/schedule"), LambdaContext("CollectFunction", "collect-1"))
