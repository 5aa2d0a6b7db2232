"""An operator's first day in the console (Debian's Chromium against the local runner): ranges that work,
alerts that stay listed until resolved, environments created from the console, every page at 390 px."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from puraify.clock import parse_time
from tests.browser.conftest import ADMIN_KEY, open_project, sign_in, watch_problems
from tests.browser.test_console_browser import PAGES, _publish, _register, _staging_promoted, collect_facts


def _query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_the_overviews_24_hours_loads_with_a_range_of_exactly_a_day(page):
    sign_in(page, "admin", ADMIN_KEY)
    expect(page.locator(".tile", has_text="Checks allowed")).to_be_visible()
    with page.expect_response(lambda r: "/monitoring/overview" in r.url) as answer:
        page.get_by_role("button", name="24 hours").click()
    assert answer.value.status == 200, answer.value.text()
    sent = _query_of(answer.value.url)

    assert parse_time(sent["until"]) - parse_time(sent["since"]) == 86400
    expect(page.get_by_role("button", name="24 hours")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("alert")).to_have_count(0)


def test_log_search_offers_relative_ranges(page, api):
    key = _register(api, "ranger", scopes=["logs:write"])
    event = {"project_id": "pf-ranges", "event_type": "execution", "status": "success", "message": "in range"}
    assert (
        api.post("/monitoring/logs", headers={"X-Engine-ID": "ranger", "X-Engine-Key": key}, json=event).status_code
        == 202
    )
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-ranges")
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_label("Range").select_option("7d")
    expect(page.get_by_label("Since")).to_have_count(0)
    with page.expect_response(lambda r: "/monitoring/logs" in r.url and "since=" in r.url) as answer:
        page.get_by_role("button", name="Search").click()
    sent = _query_of(answer.value.url)
    assert parse_time(sent["until"]) - parse_time(sent["since"]) == 7 * 86400 and "range" not in sent
    expect(page.get_by_text("1 events shown")).to_be_visible()


def test_an_acknowledged_alert_stays_in_the_default_list_until_resolved(page, api):
    alert = {"project_id": "pf-unresolved", "event_type": "queue_backlog", "severity": "high"}
    raised = api.post("/monitoring/alert", json={**alert, "message": "Queue backlog growing", "triggered_by": "exec"})
    assert raised.status_code == 201, raised.text
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-unresolved")
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_role("tab", name="Alerts").click()
    expect(page.get_by_label("Show")).to_have_value("unresolved")
    row = page.get_by_role("row", name=re.compile("Queue backlog growing"))
    row.get_by_role("button", name="Acknowledge").click()
    page.get_by_role("dialog").get_by_role("button", name="Acknowledge").click()
    expect(row).to_contain_text("ack by admin")  # still listed: acknowledged is not resolved
    row.get_by_role("button", name="Resolve").click()
    page.get_by_role("dialog").get_by_role("button", name="Resolve").click()
    expect(row).to_have_count(0)


def test_the_engine_id_pattern_is_checked_and_the_list_shows_last_seen(page, api):
    key = _register(api, "seen-engine", permissions={"gmail": ["send_email"]})
    _register(api, "quiet-engine")
    checked = api.post(
        "/actions/check",
        headers={"X-Engine-ID": "seen-engine", "X-Engine-Key": key},
        json={"platform": "gmail", "action_type": "send_email"},
    )
    assert checked.status_code == 200, checked.text
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Engines").click()
    table = page.locator("section", has_text="Engines").get_by_role("table")
    expect(table.get_by_role("columnheader", name="Last seen")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^seen-engine"))).to_contain_text(re.compile(r"\d+ (s|min) ago"))
    expect(page.get_by_role("row", name=re.compile("^quiet-engine"))).to_contain_text("never")
    # Chromium compiles `pattern` with the v flag: the check runs (an invalid pattern is a console error).
    page.get_by_role("button", name="Register an engine").click()
    engine_id = page.get_by_label("Engine id")
    engine_id.fill("Not An Id!")
    page.get_by_role("button", name="Register", exact=True).click()
    assert engine_id.evaluate("e => e.validity.patternMismatch") is True
    assert api.get("/engines/Not An Id!").status_code in (404, 422)
    engine_id.fill("fine_id-1")
    assert engine_id.evaluate("e => e.validity.valid") is True


def test_an_operator_creates_staging_production_and_a_preview_from_the_console(page, api, shots):
    project = "pf-first-day"
    _publish(api, project, "development", ["User"], "v1.0.0")
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Environments").click()
    expect(page.get_by_text("Next: staging from development")).to_be_visible()
    page.get_by_role("button", name="Create an environment").click()
    expect(page.get_by_label("Name")).to_have_value("staging")
    expect(page.get_by_label("From")).to_have_value("development")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="staging created")).to_contain_text("v1.0.0")
    # development and staging run the same version: no promotion is offered between them
    page.get_by_label("Source").select_option("development")
    page.get_by_label("Target").select_option("staging")
    expect(page.get_by_text("nothing to promote")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Promote"))).to_have_count(0)

    page.get_by_role("button", name="Create an environment").click()
    expect(page.get_by_label("Name")).to_have_value("production")
    expect(page.get_by_label("From")).to_have_value("staging")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="production created")).to_contain_text("v1.0.0")
    envs = {e["env"]: e for e in api.get(f"/env/{project}").json()["items"]}
    assert envs["production"]["version"] == "v1.0.0" and envs["staging"]["version"] == "v1.0.0"

    page.get_by_role("button", name="Create an environment").click()
    page.get_by_label("Name").fill("pr-42")
    page.get_by_label("From").select_option("development")
    page.get_by_label("A preview").check()
    page.get_by_label("Expires after (hours)").fill("6")
    page.get_by_role("button", name="Create preview").click()
    created = page.get_by_role("status").filter(has_text="pr-42 created")
    expect(created).to_contain_text(re.compile(r"expires in [56] h"))
    preview = {e["env"]: e for e in api.get(f"/env/{project}").json()["items"]}["pr-42"]
    assert preview["preview"] is True and preview["expires_at"]
    page.screenshot(path=str(shots / "environments-created.png"), full_page=True)


def test_compare_shows_the_current_version_after_a_rollback(page, api):
    project = "pf-rollback"
    _staging_promoted(api, project)
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Environments").click()
    page.get_by_label("Source").select_option("development")
    page.get_by_label("Target").select_option("staging")
    summary = page.locator(".diff").first
    expect(summary).to_contain_text("staging runs v1.1.0")
    page.get_by_role("button", name="History of staging").click()
    page.get_by_role("button", name="Roll back to v1.0.0").click()
    page.get_by_role("dialog").get_by_role("button", name="Roll back").click()
    expect(summary).to_contain_text("staging runs v1.0.0")
    expect(page.get_by_role("button", name="Promote development → staging")).to_be_visible()


def _no_overflow(tab: Any, where: str) -> None:
    width, inner = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{where}: the page is {width} px wide in a {inner} px window"


def test_no_page_overflows_at_390_px_and_row_buttons_stay_with_their_name(browser, console_plane, api, shots):
    project = "pf-narrow"
    collect_facts()
    _publish(api, project, "development", ["User", "Order"], "v1.0.0")
    api.post("/env/create", json={"project_id": project, "new_environment": "staging", "base_from": "development"})
    api.post("/plan/decide", json={"deployment_id": "deploy-narrow", "environment": "staging", "project_id": project})
    api.post("/monitoring/alert", json={"project_id": project, "event_type": "x", "severity": "high",
                                        "message": "a long alert message " * 6, "triggered_by": "exec"})  # fmt: skip
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=console_plane.base_url)
    tab = context.new_page()
    problems = watch_problems(tab)
    sign_in(tab, "admin", ADMIN_KEY)
    open_project(tab, project)
    for name in PAGES:
        tab.get_by_role("link", name=name, exact=True).click()
        expect(tab.get_by_role("heading", name=name, level=1)).to_be_visible()
        tab.wait_for_load_state("networkidle")
        _no_overflow(tab, name)
        if name == "Monitoring":
            for tab_name in ("Error groups", "Alerts", "Audit timeline"):
                tab.get_by_role("tab", name=tab_name).click()
                tab.wait_for_load_state("networkidle")
                _no_overflow(tab, f"Monitoring / {tab_name}")
    # Planning: the facts table stays inside its card
    tab.get_by_role("link", name="Planning", exact=True).click()
    facts = tab.locator("section.card", has_text="Facts")
    expect(facts.get_by_role("row", name=re.compile("^change_freeze"))).to_be_visible()
    card, table = facts.bounding_box(), facts.locator(".scroll").bounding_box()
    assert table["x"] + table["width"] <= card["x"] + card["width"] + 0.5, (card, table)
    tab.screenshot(path=str(shots / "planning-390.png"), full_page=True)
    # Platforms and Engines: scrolled to the buttons, each row's name is still in view beside them
    for link, row_name, button in (
        ("Platforms & flags", "^notion", "Set maintenance"),
        ("Engines", "^admin", "Rotate key"),
    ):
        tab.get_by_role("link", name=link, exact=True).click()
        row = tab.get_by_role("row", name=re.compile(row_name)).first
        row.get_by_role("button", name=button).scroll_into_view_if_needed()
        name_box = row.get_by_role("cell").first.bounding_box()
        button_box = row.get_by_role("button", name=button).bounding_box()
        assert name_box["x"] >= 0 and name_box["x"] + name_box["width"] <= 390, (link, name_box)
        assert button_box["x"] >= 0 and button_box["x"] + button_box["width"] <= 390, (link, button_box)
        _no_overflow(tab, link)
    tab.screenshot(path=str(shots / "platforms-390-scrolled.png"), full_page=True)
    context.close()
    assert not problems, problems
