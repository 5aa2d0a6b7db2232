"""More of an operator's first day in the console (issue 26, items 2 and 4), in Debian's Chromium against
the local runner: the Overview says how current its check counts are, and an event sent without an
engine is shown, and found, as its sender's."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, open_project, sign_in
from tests.browser.test_console_browser import _publish, _register


def test_the_overview_shows_how_far_behind_its_check_counts_may_be(page, api):
    bound = api.get("/monitoring/overview").json()["checks"]["loss_bound"]
    assert "reclaimed" in bound
    sign_in(page, "admin", ADMIN_KEY)
    card = page.locator("section.card", has_text="Checks per")
    expect(card).to_contain_text(f"How current: {bound}.")


def test_an_event_without_an_engine_is_shown_and_found_as_its_senders(page, api):
    key = _register(api, "mailer-first-day", scopes=["logs:write"])
    sender = {"X-Engine-ID": "mailer-first-day", "X-Engine-Key": key}
    events = [
        {"project_id": "pf-sender", "event_type": "execution", "status": "success", "message": "sent by the mailer"},
        {"project_id": "pf-sender", "event_type": "execution", "status": "success", "engine": "validator",
         "message": "named another engine"},
    ]  # fmt: skip
    assert api.post("/monitoring/logs", headers=sender, json={"events": events}).status_code == 202
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-sender")
    page.get_by_role("link", name="Monitoring").click()
    # The event that named no engine reads as the mailer's, not "–"
    expect(page.get_by_role("row", name=re.compile("sent by the mailer"))).to_contain_text("mailer-first-day")
    expect(page.get_by_role("row", name=re.compile("named another engine"))).to_contain_text("validator")
    # and the Engine filter finds it by its sender
    page.get_by_label("Engine", exact=True).fill("mailer-first-day")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 events shown")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("sent by the mailer"))).to_be_visible()


def test_the_audit_timeline_shows_each_row_in_its_state_as_of_that_row(page, api):
    # Given an alert raised then resolved, and a promotion whose bake a change ended
    project = "pf-as-of"
    raised = api.post(
        "/monitoring/alert",
        json={"project_id": project, "event_type": "queue", "severity": "high", "message": "queue backlog",
              "triggered_by": "ops"},
    )  # fmt: skip
    assert raised.status_code == 201, raised.text
    assert api.post(f"/monitoring/alerts/{raised.json()['alert_id']}/resolve", json={}).status_code == 200
    _publish(api, project, "development", ["User"], "v1.0.0")
    created = api.post(
        "/env/create", json={"project_id": project, "new_environment": "staging", "base_from": "development"}
    )
    assert created.status_code == 201, created.text
    _publish(api, project, "development", ["User", "Order"], "v1.1.0")
    promoted = api.post(
        "/env/promote",
        json={"project_id": project, "source_env": "development", "target_env": "staging", "bake_seconds": 600},
    )
    assert promoted.status_code == 200, promoted.text
    changed = api.put(f"/env/{project}/staging/config", json={"feature_flags": {"BETA": True}})
    assert changed.status_code == 200, changed.text
    # When the operator reads the project's whole timeline
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_role("tab", name="Audit timeline").click()
    page.get_by_label("Of").select_option("")
    page.get_by_role("button", name="Show timeline").click()
    rows = page.locator("ol.timeline li")
    # Then the alert reads as raised (open) and its transition as it set it; the promotion as it started
    # (baking) and the end of its bake as it ended (cancelled)
    expect(
        rows.filter(has_text="queue backlog").filter(has=page.locator(".badge", has_text=re.compile("^alert$")))
    ).to_contain_text("open")
    expect(rows.filter(has=page.locator(".badge", has_text=re.compile("^alert_resolved$")))).to_contain_text("resolved")
    promotion = rows.filter(has=page.locator(".badge", has_text=re.compile("^deployment$"))).filter(
        has_text="promote staging"
    )
    expect(promotion).to_contain_text("baking")
    expect(promotion.locator(".as-of")).to_have_attribute("title", "now cancelled")
    ended = rows.filter(has=page.locator(".badge", has_text=re.compile("^deployment_cancelled$")))
    expect(ended).to_contain_text("cancelled")
