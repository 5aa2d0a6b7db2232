"""Why and what if in the console (Debian's Chromium against the local runner): the Edit access dialog
shows what the change would have flipped among the engine's audited checks before it is confirmed; the
change then appears in the admin audit, the denials it causes in the engine's decisions, each with a
"Why?" that shows the decision's steps."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, sign_in
from tests.browser.test_console_browser import _register


def test_change_access_see_the_simulated_flips_confirm_and_see_it_audited(page, api):
    key = _register(api, "audited-mailer", permissions={"gmail": ["send_email", "read_email"]})
    mailer = {"X-Engine-ID": "audited-mailer", "X-Engine-Key": key}
    for action in ("send_email", "send_email", "read_email"):
        checked = api.post("/actions/check", headers=mailer, json={"platform": "gmail", "action_type": action})
        assert checked.status_code == 200 and checked.json()["allowed"], checked.text

    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Engines", exact=True).click()
    page.get_by_role("button", name="Edit access of audited-mailer").click()
    dialog = page.get_by_role("dialog")
    flips = dialog.get_by_role("status", name="Simulation result")
    expect(flips).to_contain_text("0 allowed → denied")  # the dialog opens on today's access: nothing flips
    dialog.locator("textarea[name=edit_permissions]").fill("gmail: read_email")
    expect(flips).to_contain_text("3 checks replayed: 2 allowed → denied, 0 denied → allowed, 1 unchanged")
    expect(dialog.get_by_role("row", name=re.compile(r"gmail\.send_email"))).to_contain_text("2")
    assert sorted(api.get("/engines/audited-mailer").json()["permissions"]["gmail"]) == ["read_email", "send_email"]
    dialog.get_by_role("button", name="Save access").click()
    expect(dialog).to_have_count(0)
    assert api.get("/engines/audited-mailer").json()["permissions"] == {"gmail": ["read_email"]}

    # The admin audit shows the change, who made it, before and after
    page.get_by_role("link", name="Audit", exact=True).click()
    page.get_by_role("tab", name="Admin changes").click()
    change = page.get_by_role("row", name=re.compile("set_permissions")).filter(has_text="audited-mailer").first
    expect(change).to_contain_text("admin")
    expect(change).to_contain_text("read_email")

    # The denial it causes is in the engine's decisions, with its steps
    denied = api.post("/actions/check", headers=mailer, json={"platform": "gmail", "action_type": "send_email"})
    assert denied.status_code == 200 and denied.json()["allowed"] is False, denied.text
    page.get_by_role("tab", name="Engine decisions").click()
    page.get_by_role("textbox", name="Engine", exact=True).fill("audited-mailer")
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row", name=re.compile("not_granted"))
    expect(row).to_contain_text("gmail.send_email")
    row.get_by_role("button", name=re.compile("^Why was gmail.send_email denied")).click()
    why = page.get_by_role("dialog")
    expect(why.get_by_role("status", name="Decided by")).to_have_text("Denied now by not_granted.")
    steps = why.get_by_role("list", name="Decision steps")
    expect(steps.get_by_role("listitem").filter(has_text="permission")).to_contain_text("fail")
    expect(steps.get_by_role("listitem").filter(has_text="engine_active")).to_contain_text("pass")
