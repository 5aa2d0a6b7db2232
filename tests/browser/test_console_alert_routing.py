"""Alert routing in the console (Debian's Chromium against the local runner): a project's critical alerts
routed to a webhook served by the test on 127.0.0.1, the route tester, a silence, and the delivery shown
on the alert."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from local.gateway import LambdaContext, load_handler
from local.template import ROOT, Template
from tests.browser.conftest import ADMIN_KEY, open_project, sign_in
from tests.receivers import Receiver

SECRET = "whsec_" + base64.b64encode(b"browser-routes-secret-0123456789").decode()
PROJECT = "pf-routed"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


def _delivery_pass() -> None:
    """The LogFunction's schedule, fired as EventBridge would (the runner's own timer is off in these tests)."""
    handler = load_handler(Template().functions()["LogFunction"])
    event = json.loads((ROOT / "events" / "log" / "dispatch_retry.json").read_text())
    handler(event, LambdaContext("LogFunction", event["id"]))


def _raise(api: Any, severity: str, message: str) -> dict[str, Any]:
    body = {"project_id": PROJECT, "event_type": "payment_failed", "severity": severity, "message": message,
            "triggered_by": "checkout"}  # fmt: skip
    raised = api.post("/monitoring/alert", json=body)
    assert raised.status_code == 201, raised.text
    return raised.json()


def test_critical_alerts_routed_to_a_webhook_are_delivered_and_shown(page, api, receiver, shots):
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, PROJECT)
    page.get_by_role("link", name="Alert routing").click()
    expect(page.get_by_text("No routes: every alert goes to the default channels.")).to_be_visible()

    # Route the project's critical alerts to the test's webhook
    page.get_by_role("button", name="Add route").click()
    page.get_by_label("Route 1 name").fill("critical to hook")
    page.get_by_label("Route 1 match severity").fill("critical")
    page.get_by_label("Route 1 add channel").select_option("webhook")
    page.get_by_label("Route 1 channel 1 url").fill(receiver.url)
    page.get_by_label("Route 1 channel 1 secret").fill(SECRET)
    with page.expect_response(lambda r: "/monitoring/routes/" in r.url and r.request.method == "PUT") as saved:
        page.get_by_role("button", name="Save routes").click()
    assert saved.value.status == 200, saved.value.text()
    expect(page.get_by_text("Routes saved.")).to_be_visible()

    # The secret is stored, shown only masked, and never put back into the page
    secret_field = page.get_by_label("Route 1 channel 1 secret")
    expect(secret_field).to_have_value("")
    expect(secret_field).to_have_attribute("placeholder", re.compile(r"^\*\*\*\*.{4} \(kept\)$"))
    assert SECRET not in page.content()
    stored = api.get(f"/monitoring/routes/{PROJECT}").json()["routes"][0]["channels"][0]
    assert stored["url"] == receiver.url and stored["secret"].startswith("****") and SECRET not in json.dumps(stored)

    # The tester evaluates the saved routes as the server does
    taken = page.get_by_role("status", name="Route taken")
    page.get_by_label("Alert severity").fill("Critical")
    expect(taken).to_have_text("Takes “critical to hook” → webhook")
    page.screenshot(path=str(shots / "alert-routes.png"), full_page=True)
    page.get_by_label("Alert severity").fill("high")
    expect(taken).to_have_text("No route matches: the default channels.")

    # Saving again with the secret left empty keeps it (the mask is sent back)
    page.get_by_label("Route 1 repeat minutes").fill("60")
    page.get_by_role("button", name="Save routes").click()
    expect(page.get_by_text("Routes saved.")).to_be_visible()

    # Raise a critical alert: the server takes the same route; the delivery pass sends it, signed
    alert = _raise(api, "critical", "card processor down")
    assert alert["routes"] == ["critical to hook"]
    _delivery_pass()
    assert len(receiver.requests) == 1
    verified = Webhook(SECRET).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])
    assert verified["type"] == "alert.opened" and verified["alert"]["alert_id"] == alert["alert_id"]

    # And the alert's detail shows the delivery, its target masked
    page.get_by_role("link", name="Monitoring").click()
    page.get_by_role("tab", name="Alerts").click()
    page.get_by_role("button", name=f"Deliveries of alert {alert['alert_id']}").click()
    dialog = page.get_by_role("dialog")
    row = dialog.get_by_role("row", name=re.compile("critical to hook"))
    expect(row).to_contain_text("delivered")
    expect(row).to_contain_text("HTTP 200")
    expect(row).to_contain_text("http://127.0.0.1:")
    page.screenshot(path=str(shots / "alert-deliveries.png"))
    assert SECRET not in page.content()
    dialog.get_by_role("button", name="Close").click()


def test_a_silence_is_added_listed_and_ended(page, api):
    sign_in(page, "admin", ADMIN_KEY)
    open_project(page, "pf-silenced")
    page.get_by_role("link", name="Alert routing").click()
    page.get_by_role("tab", name="Silences").click()
    expect(page.get_by_text("No silences.")).to_be_visible()
    page.get_by_label("Silence platform").fill("slack")
    page.get_by_label("Silence reason").fill("Slack maintenance")
    page.get_by_role("button", name="Add silence").click()
    row = page.get_by_role("row", name=re.compile("Slack maintenance"))
    expect(row).to_contain_text("platform=slack")
    expect(row).to_contain_text("active")
    (silence,) = api.get("/monitoring/silences", params={"project_id": "pf-silenced"}).json()["silences"]
    assert silence["match"] == {"platform": ["slack"]} and silence["active"]

    row.get_by_role("button", name="End").click()
    page.get_by_role("dialog").get_by_role("button", name="End silence").click()
    expect(page.get_by_text("No silences.")).to_be_visible()
    assert api.get("/monitoring/silences", params={"project_id": "pf-silenced"}).json()["silences"] == []
