"""The header's project picker (issue 26, item 16): the projects with events or environments, found by
typing the start of their id, picked with the mouse or the keyboard (Debian's Chromium, local runner)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, sign_in
from tests.browser.test_console_browser import _publish, _register


def _ingest(api, engine: tuple[str, str], *projects: str) -> None:
    events = [
        {"project_id": p, "event_type": "execution", "status": "success", "message": f"hello {p}"} for p in projects
    ]
    reply = api.post(
        "/monitoring/logs", headers={"X-Engine-ID": engine[0], "X-Engine-Key": engine[1]}, json={"events": events}
    )
    assert reply.status_code == 202, reply.text


def test_an_operator_picks_a_project_with_events_from_the_picker(page, api):
    # Given events for two projects and an environment of a third
    sender = ("picker-sender", _register(api, "picker-sender", scopes=["logs:write"]))
    _ingest(api, sender, "pick-shop", "pick-blog")
    _publish(api, "pick-env", "development", ["User"], "v1.0.0")
    sign_in(page, "admin", ADMIN_KEY)
    # When the operator types the start of an id into the Project box
    picker = page.get_by_role("combobox", name="Project")
    picker.fill("pick-")
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    # Then the projects with events or environments are offered, in id order, with what each has
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_contain_text("pick-blog")
    expect(options.nth(0)).to_contain_text("events")
    expect(options.nth(1)).to_contain_text("pick-env")
    expect(options.nth(1)).to_contain_text("environments")
    # and narrowing the search narrows the list
    picker.fill("pick-s")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("pick-shop")
    # When one is picked, it is the open project: Monitoring lists its events
    options.first.click()
    expect(picker).to_have_value("pick-shop")
    expect(page.get_by_role("listbox", name="Suggestions")).to_have_count(0)
    page.get_by_role("link", name="Monitoring").click()
    expect(page.get_by_text("hello pick-shop")).to_be_visible()
    expect(page.get_by_text("hello pick-blog")).to_have_count(0)


def test_the_keyboard_picks_and_an_unknown_id_can_still_be_typed(page, api):
    sender = ("picker-keys", _register(api, "picker-keys", scopes=["logs:write"]))
    _ingest(api, sender, "keys-alpha", "keys-beta")
    sign_in(page, "admin", ADMIN_KEY)
    picker = page.get_by_role("combobox", name="Project")
    picker.fill("keys-")
    expect(page.get_by_role("option")).to_have_count(2)
    picker.press("ArrowDown")
    picker.press("ArrowDown")
    expect(page.get_by_role("option", selected=True)).to_contain_text("keys-beta")
    picker.press("Enter")
    expect(picker).to_have_value("keys-beta")
    # A project with nothing yet: not offered, but typing its id and Open still opens it
    picker.fill("keys-new")
    expect(page.get_by_role("listbox", name="Suggestions")).to_contain_text(re.compile("No project starts with"))
    page.get_by_role("button", name="Open").click()
    page.get_by_role("link", name="Environments").click()
    expect(picker).to_have_value("keys-new")


def test_an_engine_granted_one_project_is_offered_only_that_one(page, api):
    sender = ("picker-scoped", _register(api, "picker-scoped", scopes=["logs:write"]))
    _ingest(api, sender, "scoped-mine", "scoped-theirs")
    key = _register(api, "picker-reader", scopes=["logs:read"], projects=["scoped-mine"])
    sign_in(page, "picker-reader", key)
    page.get_by_role("combobox", name="Project").fill("scoped-")
    options = page.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("scoped-mine")
