"""Containment in the console: the Engines page shows each engine's rate limit, key expiry and suspension,
and suspends and reinstates it (the engine's own checks answer 403 ``engine_suspended`` over HTTP
meanwhile); the Overview shows the engine-level alerts and acknowledges and resolves them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, sign_in

CHECK = {"platform": "gmail", "action_type": "send_email"}


def _register(api, engine_id: str, **body) -> dict[str, str]:
    reply = api.post(
        "/engines/register", json={"engine_id": engine_id, "permissions": {"gmail": ["send_email"]}, **body}
    )
    assert reply.status_code == 201, reply.text
    return {"X-Engine-ID": engine_id, "X-Engine-Key": reply.json()["engine_key"]}


def _check(base_url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base_url}/actions/check", headers=headers, json=CHECK, timeout=20)


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def test_an_engine_is_suspended_and_reinstated_from_the_engines_page(page, api, console_plane):
    engine = _register(api, "rogue-ui", rate_limit={"per_second": 5, "burst": 10}, expires_at=_in(3))
    assert _check(console_plane.base_url, engine).status_code == 200
    sign_in(page, "admin", ADMIN_KEY)
    page.get_by_role("link", name="Engines").click()
    row = page.get_by_role("row", name=re.compile("^rogue-ui"))
    # The row shows the engine's own limit and its key's expiry (within seven days: flagged)
    expect(row).to_contain_text("5/s, burst 10")
    expect(row).to_contain_text("within 7 days")
    # Suspend: the dialog names the engine and asks a reason
    row.get_by_role("button", name="Suspend rogue-ui").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Suspend engine rogue-ui?")
    dialog.get_by_label(re.compile("^Reason")).fill("probing other engines' platforms")
    dialog.get_by_role("button", name="Suspend rogue-ui").click()
    expect(dialog).to_have_count(0)
    expect(row).to_contain_text("suspended")
    expect(row).to_contain_text("probing other engines' platforms")
    # The engine's own check now answers 403 engine_suspended over HTTP
    refused = _check(console_plane.base_url, engine)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "engine_suspended", refused.text
    # Reinstate: a confirmation naming the engine, then its checks work again
    row.get_by_role("button", name="Reinstate rogue-ui").click()
    expect(page.get_by_role("dialog")).to_contain_text("Reinstate engine rogue-ui?")
    page.get_by_role("dialog").get_by_role("button", name="Reinstate rogue-ui").click()
    expect(row.get_by_role("button", name="Suspend rogue-ui")).to_be_visible()
    expect(row).not_to_contain_text("probing other engines' platforms")
    assert _check(console_plane.base_url, engine).status_code == 200
    shown = api.get("/engines/rogue-ui").json()
    assert shown["suspended"] is None


def test_the_overview_shows_engine_alerts_and_resolves_them(page, api, console_plane):
    from puraify import wiring

    _register(api, "expiring-ui", expires_at=_in(2))
    ran = wiring.current().planning.watch_keys()  # the schedule's key_expiring pass (this plane fires none)
    assert "expiring-ui" in [k.engine_id for k in ran]
    sign_in(page, "admin", ADMIN_KEY)
    card = page.get_by_role("region", name="Engine alerts")
    item = card.get_by_role("listitem").filter(has_text="expiring-ui")
    expect(item).to_contain_text("Key expiring")
    expect(item).to_contain_text("engine expiring-ui: its key expires at")
    item.get_by_role("button", name="Acknowledge key_expiring of expiring-ui").click()
    page.get_by_role("dialog").get_by_role("button", name="Acknowledge").click()
    expect(item).to_contain_text("acknowledged")
    item.get_by_role("button", name="Resolve key_expiring of expiring-ui").click()
    expect(page.get_by_role("dialog")).to_contain_text("acknowledge it instead")
    page.get_by_role("dialog").get_by_role("button", name="Resolve").click()
    expect(card.get_by_role("listitem").filter(has_text="expiring-ui")).to_have_count(0)
    alerts = api.get("/monitoring/alerts", params={"limit": 50}).json()["items"]
    (alert,) = [a for a in alerts if a.get("engine_id") == "expiring-ui"]
    assert alert["status"] == "resolved" and alert["resolved_by"] == "admin" and alert["project_id"] is None
