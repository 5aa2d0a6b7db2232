"""Moving between things in the console (Debian's Chromium against the local runner): alert -> error group
and events, error group -> events and deployments around it, deployment -> its version's errors, an id ->
its record through the Find box, and a session played back step by step."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, open_project, sign_in
from tests.browser.test_console_browser import _register, _staging_promoted


def _engine(api: httpx.Client, engine_id: str, **body) -> dict[str, str]:
    return {"X-Engine-ID": engine_id, "X-Engine-Key": _register(api, engine_id, **body)}


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_from_an_alert_to_its_error_group_its_events_and_the_deployments_around_it(page, api):
    project = "pf-links"
    _staging_promoted(api, project)
    writer = _engine(api, "links-writer", scopes=["logs:write"])
    burst = [
        {"project_id": project, "event_id": f"burst-{i}", "engine": "links-writer", "platform": "stripe",
         "action": "charge", "status": "error", "error_type": "card_declined", "message": "card declined by issuer",
         "environment": "staging", "version": "v1.1.0"}
        for i in range(30)
    ]  # fmt: skip
    other = {"project_id": project, "event_id": "other-1", "engine": "links-writer", "platform": "slack",
             "status": "error", "error_type": "timeout", "message": "slack timed out", "version": "v1.0.0"}  # fmt: skip
    reply = api.post("/monitoring/logs", headers=writer, json={"events": [*burst, other]})
    assert reply.status_code == 202 and not reply.json()["rejected"], reply.text
    alerts = api.get("/monitoring/alerts", params={"project_id": project}).json()["items"]
    assert [a["fingerprint"] is not None for a in alerts] == [True], alerts

    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_role("tab", name="Alerts").click()
    page.get_by_role("row", name=re.compile("card_declined|card declined")).get_by_role(
        "link", name="Error group"
    ).click()
    group = page.get_by_role("region", name="Error group")
    expect(group).to_contain_text("card_declined on stripe")
    deployments = group.get_by_role("table")
    promotion = deployments.get_by_role("row", name=re.compile("staging v1.0.0 → v1.1.0"))
    expect(promotion).to_contain_text("promote from development")
    expect(promotion).to_contain_text("before first seen")
    group.get_by_role("link", name="Its events").click()
    expect(page.get_by_text("30 events shown")).to_be_visible()
    expect(page.get_by_label("Error group")).to_have_value(alerts[0]["fingerprint"])

    # A deployment -> the errors of its version there (Environments' "errors" of staging's version)
    page.get_by_role("link", name="Environments").click()
    page.get_by_role("link", name="Errors of v1.1.0 in staging").click()
    expect(page.get_by_label("Version")).to_have_value("v1.1.0")
    expect(page.get_by_text("30 events shown")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("slack timed out"))).to_have_count(0)


def test_the_find_box_finds_an_engine_a_project_an_alert_a_request_and_a_decision(page, api):
    project = "pf-find"
    writer = _engine(api, "finder-writer", scopes=["logs:write"])
    event = {"project_id": project, "event_type": "execution", "status": "success", "request_id": "req-find-42",
             "message": "carried a request id"}  # fmt: skip
    assert api.post("/monitoring/logs", headers=writer, json=event).status_code == 202
    raised = api.post("/monitoring/alert", json={"project_id": project, "event_type": "manual", "severity": "low",
                                                 "message": "found by its id", "triggered_by": "ops"})  # fmt: skip
    alert_id = raised.json()["alert_id"]
    decided = api.post(
        "/plan/decide", json={"deployment_id": "deploy-find", "environment": "staging", "project_id": project}
    )
    decision_id = decided.json()["decision_id"]
    sign_in(page, "admin", ADMIN_KEY)
    find = page.get_by_role("searchbox", name=re.compile("Find"))

    find.fill("finder-writer")
    find.press("Enter")
    results = page.locator(".results")
    expect(results).to_contain_text("engine")
    expect(results.get_by_role("link", name="finder-writer")).to_be_visible()

    find.fill(project)
    find.press("Enter")
    results.get_by_role("link", name=project).click()
    expect(page.get_by_label("Project")).to_have_value(project)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()

    find.fill(alert_id)
    find.press("Enter")
    expect(results).to_contain_text("found by its id")
    expect(results.get_by_role("link", name="Events around it")).to_be_visible()

    find.fill("req-find-42")
    find.press("Enter")
    results.get_by_role("link", name="show them").click()
    expect(page.get_by_role("row", name=re.compile("carried a request id"))).to_be_visible()

    find.fill(decision_id)
    find.press("Enter")
    results.get_by_role("link", name=decision_id).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Decision {decision_id}")
    expect(dialog).to_contain_text("deploy-find")


def test_a_session_plays_back_step_by_step_with_the_checks_that_allowed_it(page, api, shots):
    project = "pf-replay"
    mailer = _engine(api, "replay-mailer", scopes=["logs:write"], permissions={"gmail": ["send_email"]})
    checks = []
    for _ in range(2):
        reply = api.post(
            "/actions/check",
            headers=mailer,
            json={"platform": "gmail", "action_type": "send_email", "project_id": project, "flow_id": "flow-r"},
        )
        assert reply.json()["allowed"] is True, reply.text
        checks.append(reply.json()["request_id"])
        time.sleep(1.1)
    start = datetime.now(UTC) + timedelta(seconds=1)
    steps = [
        {"engine": "replay-mailer", "platform": "gmail", "action": "send_email", "status": "success",
         "duration_ms": 182, "request_id": checks[0]},
        {"engine": "replay-mailer", "platform": "gmail", "action": "send_email", "status": "error",
         "duration_ms": 3004, "error_type": "quota_exceeded", "message": "daily sending quota exceeded"},
        {"engine": "replay-mailer", "platform": "slack", "action": "send_message", "status": "success",
         "duration_ms": 95},
    ]  # fmt: skip
    events = [
        {"project_id": project, "session_id": "sess-replay", "flow_id": "flow-r", "event_type": "execution",
         "timestamp": _iso(start + timedelta(seconds=i)), **step}
        for i, step in enumerate(steps)
    ]  # fmt: skip
    assert api.post("/monitoring/logs", headers=mailer, json={"events": events}).status_code == 202

    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, project)
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_role("tab", name="Session replay").click()
    page.get_by_label("Session id").fill("sess-replay")
    page.get_by_role("button", name="Replay").click()
    step = page.get_by_label("Current step")
    expect(page.get_by_text("Step 1 of 3")).to_be_visible()
    expect(step).to_contain_text("replay-mailer")
    expect(step).to_contain_text("send_email")
    expect(step).to_contain_text("182 ms")
    expect(step).to_contain_text("allowed check of replay-mailer on gmail / send_email")
    expect(step).to_contain_text(checks[0])  # the event named its check's request
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Step 2 of 3")).to_be_visible()
    expect(step).to_contain_text("quota_exceeded: daily sending quota exceeded")
    expect(step).to_contain_text("3004 ms")
    expect(step).to_contain_text(checks[1])  # the latest allowed check of that engine and action before it
    page.screenshot(path=str(shots / "monitoring-session-replay.png"), full_page=True)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_text("Step 3 of 3")).to_be_visible()
    expect(step).to_contain_text("no check found for this step")
    expect(step).to_contain_text("slack")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()  # stopped at the last step
