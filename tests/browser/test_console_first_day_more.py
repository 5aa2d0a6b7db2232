"""More of an operator's first day in the console (issue 26, items 2 and 4), in Debian's Chromium against
the local runner: the Overview says how current its check counts are, and an event sent without an
engine is shown, and found, as its sender's."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, open_project, sign_in
from tests.browser.test_console_browser import _register


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
