"""What if and why in the console (Debian's Chromium against the local runner): a platform's status switch and
a flag's switch show the flips the change would have made among the audited checks of the last 24 hours
before the confirmation, and the change then appears in the admin audit; a gate decision's "Why?" on the
Planning page and on the Overview shows its steps, the reasons that denied it among them."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, open_project, sign_in
from tests.browser.test_console_browser import _register, collect_facts


def _checks(api, engine_id, key, asked):
    headers = {"X-Engine-ID": engine_id, "X-Engine-Key": key}
    for action in asked:
        checked = api.post(
            "/actions/check", headers=headers, json={"platform": "google_calendar", "action_type": action}
        )
        assert checked.status_code == 200, checked.text


def test_a_platform_to_maintenance_shows_its_flips_then_is_audited(page, api):
    # Given real checks on google_calendar: 3 allowed, 1 denied (not granted)
    key = _register(api, "calendar-bot", permissions={"google_calendar": ["create_event"]})
    _checks(api, "calendar-bot", key, ["create_event"] * 3 + ["list_events"])
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    row = page.get_by_role("row", name=re.compile("^google_calendar (available|maintenance)"))  # not the flips' rows
    # When the switch is pressed, the confirmation shows what the change would have flipped
    row.get_by_role("button", name="Set maintenance").click()
    dialog = page.get_by_role("dialog")
    flips = dialog.get_by_role("status", name="Simulation result")
    expect(flips).to_contain_text("4 checks replayed: 3 allowed → denied, 0 denied → allowed, 1 unchanged")
    expect(dialog.get_by_role("row", name=re.compile(r"google_calendar\.create_event"))).to_contain_text("3")
    assert _status(api, "google_calendar") == "available"  # nothing changed before the confirmation
    # Then confirmed, the platform is in maintenance and the admin audit shows the change
    dialog.get_by_role("button", name="Set maintenance").click()
    expect(dialog).to_have_count(0)
    expect(row).to_contain_text("maintenance")
    assert _status(api, "google_calendar") == "maintenance"
    page.get_by_role("link", name="Audit", exact=True).click()
    page.get_by_role("tab", name="Admin changes").click()
    change = page.get_by_role("row", name=re.compile("patch_platform")).filter(has_text="google_calendar").first
    expect(change).to_contain_text("admin")
    expect(change).to_contain_text("maintenance")
    # Back to available: the simulation now shows the denials it would lift
    page.get_by_role("link", name="Platforms & flags").click()
    row.get_by_role("button", name="Make available").click()
    back = page.get_by_role("dialog").get_by_role("status", name="Simulation result")
    expect(back).to_contain_text("0 allowed → denied, 3 denied → allowed")  # today's rules deny them
    page.get_by_role("dialog").get_by_role("button", name="Set available").click()
    expect(row).to_contain_text("available")


def test_a_flag_switch_shows_its_flips_before_the_confirmation(page, api):
    key = _register(api, "calendar-reader", permissions={"google_calendar": ["list_events"]})
    _checks(api, "calendar-reader", key, ["list_events"] * 2)
    made = api.put("/config/flags/calendar-reads", json={"enabled": True, "platform": "google_calendar",
                                                         "action_type": "list_events"})  # fmt: skip
    assert made.status_code in (200, 201), made.text
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    page.get_by_role("row", name=re.compile("calendar-reads")).get_by_role("button", name="Disable").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("status", name="Simulation result")).to_contain_text("2 allowed → denied")
    dialog.get_by_role("button", name="Cancel").click()
    assert api.get("/config/global").json()["feature_flags"]["calendar-reads"]["enabled"] is True


def _status(api, name):
    answer = api.get("/platforms/list")
    assert answer.status_code == 200, answer.text
    return {p["name"]: p for p in answer.json()["items"]}[name]["status"]


def test_why_on_a_gate_decision_shows_its_reasons(page, api):
    # Given a gate decision denied because a platform is in maintenance (a fact the collector gathered)
    assert api.patch("/platforms/google_calendar", json={"status": "maintenance"}).status_code == 200
    collect_facts()
    decided = api.post("/plan/decide", json={"deployment_id": "deploy-why", "environment": "staging",
                                             "project_id": "pf-why"})  # fmt: skip
    assert api.patch("/platforms/google_calendar", json={"status": "available"}).status_code == 200
    assert decided.status_code == 200, decided.text
    decision = decided.json()
    assert not decision["allow"] and decision["deny_reasons"], decision  # a denial, with its reasons
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-why")
    # On the Overview's latest decisions
    page.get_by_role("button", name=re.compile(r"^Why was deploy-why")).first.click()
    why = page.get_by_role("dialog")
    expect(why.get_by_role("status", name="Decided by")).to_contain_text(
        f"Denied by {len(decision['deny_reasons'])} reason"
    )
    steps = why.get_by_role("list", name="Decision steps")
    for reason in decision["deny_reasons"]:
        expect(steps.get_by_role("listitem").filter(has_text=reason)).to_contain_text("fail")
    why.get_by_role("button", name="Close").click()
    # On the Planning page's decisions
    page.get_by_role("link", name="Planning", exact=True).click()
    row = page.get_by_role("row", name=re.compile("deploy-why"))
    row.get_by_role("button", name=re.compile(r"^Why was deploy-why")).click()
    why = page.get_by_role("dialog")
    steps = why.get_by_role("list", name="Decision steps")
    expect(steps.get_by_role("listitem").filter(has_text="policy revision")).to_contain_text("pass")
    expect(steps.get_by_role("listitem").filter(has_text=decision["deny_reasons"][0])).to_contain_text("fail")
    for fact in decision["facts"]:
        expect(why.get_by_role("row", name=re.compile(re.escape(fact)))).to_be_visible()


def test_the_forms_that_schedule_a_window_or_a_flag_change_show_what_it_would_flip(page, api):
    from datetime import UTC, datetime, timedelta

    # Given real checks on notion: 2 allowed
    key = _register(api, "notion-writer", permissions={"notion": ["create_page"]})
    for _ in range(2):
        checked = api.post("/actions/check", headers={"X-Engine-ID": "notion-writer", "X-Engine-Key": key},
                           json={"platform": "notion", "action_type": "create_page"})  # fmt: skip
        assert checked.status_code == 200 and checked.json()["allowed"] is True, checked.text
    made = api.put("/config/flags/notion-pages", json={"enabled": True, "platform": "notion"})
    assert made.status_code in (200, 201), made.text
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    # A window more than a week ahead is judged on the last 24 hours: both checks would be denied
    window = page.get_by_role("form", name="Schedule a maintenance window")
    window.get_by_label("Platform").select_option("notion")
    later = datetime.now(UTC) + timedelta(days=10)
    window.get_by_label("Starts (UTC)").fill(later.strftime("%Y-%m-%dT%H:%M"))
    window.get_by_label("Ends (UTC)").fill((later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    flips = window.get_by_role("status", name="Simulation result")
    expect(window.get_by_role("region", name="Simulated flips")).to_contain_text("(last 24 hours)")
    expect(flips).to_contain_text("2 checks replayed: 2 allowed → denied")
    # A window tomorrow, 3 to 1 hours before this time of day, is judged on those hours today: without checks
    tomorrow = datetime.now(UTC) + timedelta(days=1, hours=-3)
    window.get_by_label("Starts (UTC)").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    window.get_by_label("Ends (UTC)").fill((tomorrow + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    expect(window.get_by_role("region", name="Simulated flips")).to_contain_text("its same hours one day before")
    expect(flips).to_contain_text("0 checks replayed")
    # The flag form: switching notion-pages off would have denied both
    change = page.get_by_role("form", name="Schedule a flag change")
    change.get_by_label("Flag").select_option("notion-pages")
    change.get_by_label("Switch to").select_option("disabled")
    expect(change.get_by_role("status", name="Simulation result")).to_contain_text("2 allowed → denied")
    assert _status(api, "notion") == "available"  # nothing scheduled or changed
    assert api.get("/config/global").json()["feature_flags"]["notion-pages"]["enabled"] is True
