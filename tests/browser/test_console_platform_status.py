"""The console's status switch changes only a platform's status (``PATCH /platforms/{name}``): its actions
and API version stay as they were."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, sign_in


def _platform(api, name):
    answer = api.get("/platforms/list")
    assert answer.status_code == 200, answer.text
    return {p["name"]: p for p in answer.json()["items"]}[name]


def test_the_status_switch_patches_the_status_and_keeps_the_platform(page, api):
    before = _platform(api, "notion")
    assert before["actions"], "the seeded platform has actions to lose"
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Platforms & flags").click()
    row = page.get_by_role("row", name=re.compile("^notion"))
    row.get_by_role("button", name="Set maintenance").click()
    with page.expect_request(lambda r: "/platforms/notion" in r.url and r.method != "GET") as sent:
        page.get_by_role("dialog").get_by_role("button", name="Set maintenance").click()
    assert sent.value.method == "PATCH" and json.loads(sent.value.post_data or "{}") == {"status": "maintenance"}
    expect(row).to_contain_text("maintenance")
    after = _platform(api, "notion")
    assert after["status"] == "maintenance"
    assert (after["actions"], after["api_version"]) == (before["actions"], before["api_version"])
    row.get_by_role("button", name="Make available").click()
    page.get_by_role("dialog").get_by_role("button", name="Set available").click()
    expect(row).to_contain_text("available")
    assert _platform(api, "notion")["actions"] == before["actions"]
