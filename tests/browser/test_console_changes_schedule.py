"""Changes the control plane makes to itself, in the console: a maintenance window on the Platforms page's
timeline (and the checks it denies), a scheduled flag change listed and cancelled, and a history that offers
"Roll back" only where it is one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, open_project, sign_in


def _minute(at: datetime) -> str:
    """``at`` as the UTC ``datetime-local`` value the console's forms take."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _register(api: httpx.Client, engine_id: str, **body) -> dict[str, str]:
    reply = api.post("/engines/register", json={"engine_id": engine_id, "projects": ["*"], **body})
    assert reply.status_code == 201, reply.text
    return {"X-Engine-ID": engine_id, "X-Engine-Key": reply.json()["engine_key"]}


def _fits_390(tab, where: str) -> None:
    """At 390 px the page does not scroll sideways; back to desktop width after."""
    tab.set_viewport_size({"width": 390, "height": 844})
    width = tab.evaluate("document.documentElement.scrollWidth")
    tab.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{where}: {width} px wide at 390"


def _check(api: httpx.Client, engine: dict[str, str]) -> dict:
    reply = api.post("/actions/check", headers=engine, json={"platform": "gmail", "action_type": "send_email"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_window_scheduled_on_the_platforms_page_is_on_the_timeline_and_denies_checks_from_its_start(page, api, shots):
    engine = _register(api, "window-mailer", permissions={"gmail": ["send_email"]})
    assert _check(api, engine)["allowed"] is True
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    form = page.get_by_role("form", name="Schedule a maintenance window")
    form.get_by_label("Platform").select_option("gmail")
    now = datetime.now(UTC)
    # The server's validation messages appear under the fields they concern
    form.get_by_label("Starts (UTC)").fill(_minute(now + timedelta(hours=2)))
    form.get_by_label("Ends (UTC)").fill(_minute(now + timedelta(hours=1)))
    form.get_by_role("button", name="Schedule window").click()
    expect(form.locator("#window-ends-error")).to_contain_text("ends_at must be after starts_at")
    expect(form.locator("#window-reason-error")).to_be_visible()
    # A window starting now (this minute) and ending in two hours
    form.get_by_label("Starts (UTC)").fill(_minute(now))
    form.get_by_label("Ends (UTC)").fill(_minute(now + timedelta(hours=2)))
    form.get_by_label("Reason").fill("database upgrade")
    form.get_by_role("button", name="Schedule window").click()
    bar = page.get_by_role("img", name=re.compile(r"^gmail: database upgrade \(.*, in force\)"))
    expect(bar).to_be_visible()
    timeline = page.locator(".timeline-row[data-platform=gmail]")
    expect(timeline).to_contain_text("in maintenance")
    expect(timeline).to_contain_text("database upgrade")
    expect(page.get_by_role("row", name=re.compile("gmail.*in force.*database upgrade"))).to_be_visible()
    page.screenshot(path=str(shots / "platforms-maintenance.png"), full_page=True)
    _fits_390(page, "Platforms with a maintenance window")
    denied = _check(api, engine)
    assert (denied["allowed"], denied["rule"]) == (False, "platform_maintenance"), denied
    assert "database upgrade" in denied["reason"]
    # Cancelled: the checks are allowed again
    page.get_by_role("button", name="Cancel window database upgrade on gmail").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel window").click()
    expect(page.get_by_role("img", name="gmail: no maintenance window in the next 7 days")).to_be_visible()
    assert _check(api, engine)["allowed"] is True


def test_a_flag_change_is_scheduled_listed_and_cancelled(page, api, shots):
    put = api.put(
        "/config/flags/gmail-send",
        json={"enabled": True, "platform": "gmail", "action_type": "send_email", "description": "sending"},
    )
    assert put.status_code == 200, put.text
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    card = page.locator("section.card", has=page.get_by_role("heading", name="Scheduled flag changes"))
    expect(card).to_contain_text("No flag change is scheduled.")
    form = page.get_by_role("form", name="Schedule a flag change")
    form.get_by_label("Flag").select_option("gmail-send")
    form.get_by_label("Switch to").select_option("disabled")
    at = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    form.get_by_label("At (UTC)").fill(_minute(at))
    form.get_by_role("button", name="Schedule change").click()
    row = card.get_by_role("row", name=re.compile("gmail-send"))
    expect(row).to_contain_text(at.strftime("%Y-%m-%d %H:%M"))
    expect(row).to_contain_text("disabled")
    expect(row).to_contain_text("admin")
    listed = api.get("/config/flags/gmail-send/schedule").json()["changes"]
    assert [(c["enabled"], c["created_by"]) for c in listed] == [(False, "admin")]
    page.screenshot(path=str(shots / "platforms-flag-schedule.png"), full_page=True)
    row.get_by_role("button", name=re.compile("^Cancel the change of gmail-send")).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel change").click()
    expect(card).to_contain_text("No flag change is scheduled.")
    assert api.get("/config/flags/gmail-send/schedule").json()["changes"] == []


def _publish(api: httpx.Client, project: str, label: str, entities: list[str]) -> None:
    state = {"entities": entities, "flows": {}, "feature_flags": []}
    body = {"project_id": project, "environment": "development", "label": label, "state": state}
    reply = api.post("/env/versions", json=body)
    assert reply.status_code in (200, 201), reply.text


def _promote(api: httpx.Client, project: str) -> None:
    reply = api.post("/env/promote", json={"project_id": project, "source_env": "development", "target_env": "staging"})
    assert reply.status_code == 200, reply.text


def test_the_history_offers_roll_back_only_to_a_version_that_ran_before(page, api, shots):
    project = "pf-rollback"
    _publish(api, project, "v1.0.0", ["User"])
    created = api.post(
        "/env/create", json={"project_id": project, "new_environment": "staging", "base_from": "development"}
    )
    assert created.status_code == 201, created.text
    for label, entities in (("v1.1.0", ["User", "Order"]), ("v1.2.0", ["User", "Order", "Invoice"])):
        _publish(api, project, label, entities)
        _promote(api, project)
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Environments").click()
    page.get_by_role("button", name="History of staging").click()
    history = page.locator("section.card", has=page.get_by_role("heading", name="History of staging"))
    expect(history.get_by_role("button", name="Roll back to v1.1.0")).to_be_visible()
    expect(history.get_by_role("button", name="Roll back to v1.0.0")).to_have_count(1)
    expect(history.get_by_role("button", name="Roll back to v1.2.0")).to_have_count(0)  # the current one
    history.get_by_role("button", name="Roll back to v1.1.0").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("phase rollback")
    expect(dialog).to_contain_text("allows such a rollback during a change freeze and with alerts open")
    dialog.get_by_role("button", name="Roll back").click()
    expect(history.locator("ol.timeline li").first).to_contain_text("rollback")
    # v1.2.0 is now forward (and left by a rollback): not offered; v1.0.0 still is
    expect(history.get_by_role("button", name="Roll back to v1.0.0")).to_be_visible()
    expect(history.get_by_role("button", name=re.compile("^Roll back to v1.[12].0"))).to_have_count(0)
    expect(history).to_contain_text(
        "A rollback goes to a version staging ran before v1.1.0 that no rollback left: v1.0.0."
    )
    # Only an admin's force takes it there, with a reason
    force = history.get_by_role("form", name="Force a version that is not a rollback")
    expect(force.get_by_label("Version").locator("option")).to_have_text(["v1.2.0"])
    page.screenshot(path=str(shots / "environments-rollback-rules.png"), full_page=True)
    _fits_390(page, "a history with a force form")
    forward = api.post("/env/rollback", json={"project_id": project, "environment": "staging", "version": "v1.2.0"})
    assert forward.status_code == 409 and forward.json()["error"]["code"] == "not_a_rollback", forward.text
    force.get_by_label("Reason").fill("v1.1.0 lost the invoices table")
    force.get_by_role("button", name="Force staging to v1.2.0…").click()
    dialog.get_by_role("button", name="Force").click()
    expect(history.locator("ol.timeline li").first).to_contain_text("v1.2.0")
    head = api.get(f"/env/{project}/staging/history").json()
    assert head["entries"][0]["version"] == "v1.2.0"
