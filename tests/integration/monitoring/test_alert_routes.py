"""Alert routes, silences and deliveries: real handlers on moto, real HTTP receivers on 127.0.0.1.

Deliveries are made by the schedule's pass (``run_schedule`` fires it as EventBridge would), never
in the request that raised or moved the alert.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from puraify import clock, wiring
from tests.integration.monitoring.conftest import _register
from tests.receivers import Receiver

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


@pytest.fixture
def manager(aws, admin, invoke) -> tuple[str, str]:
    """An engine with ``alerts:manage`` and ``logs:read`` on every project."""
    return _register(invoke, admin, "oncall", ["alerts:manage", "logs:read"])


def _put_routes(invoke, who, project: str, routes: list[dict[str, Any]]):
    return invoke("log/routes_put", engine=who, body={"routes": routes}, path_params={"project_id": project})


def _alert(invoke, who, project: str, severity: str = "critical", **extra: Any) -> dict[str, Any]:
    body = {"project_id": project, "event_type": "payment_failed", "severity": severity,
            "message": f"card processor down {os.urandom(4).hex()}", "triggered_by": "checkout", **extra}  # fmt: skip
    reply = invoke("log/alert", engine=who, body=body)
    assert reply.status == 201, reply.body
    return reply.body


def _show(invoke, who, alert_id: str) -> dict[str, Any]:
    reply = invoke("log/alert_show", engine=who, path_params={"alert_id": alert_id})
    assert reply.status == 200, reply.body
    return reply.body


def test_a_matching_alert_is_delivered_as_a_signed_webhook(aws, project, alerter, manager, invoke, run_schedule,
                                                             receiver):  # fmt: skip
    # Given critical alerts of the project go to a webhook
    routes = [{"name": "critical", "match": {"severity": ["critical"]},
               "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]}]  # fmt: skip
    assert _put_routes(invoke, manager, project, routes).status == 200
    # When one is raised: recorded and owed, not sent in the request
    alert = _alert(invoke, alerter, project)
    assert alert["routes"] == ["critical"] and receiver.requests == []
    run_schedule()
    # Then the receiver got it, signed as Standard Webhooks says
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    verified = Webhook(SECRET).verify(request["body"], request["headers"])
    assert verified["type"] == "alert.opened" and verified["alert"]["alert_id"] == alert["alert_id"]
    assert request["headers"]["webhook-signature"].startswith("v1,")
    shown = _show(invoke, manager, alert["alert_id"])
    (delivery,) = shown["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    assert delivery["target"] == receiver.url.split("/hooks")[0] + "/…" and delivery["delivered_at"]
    assert SECRET not in json.dumps(shown)
    # And a lower severity takes no route: the default channels, as before
    assert _alert(invoke, alerter, project, severity="high").get("routes") is None


def test_pagerduty_gets_trigger_then_resolve_with_the_same_dedup_key(aws, project, alerter, manager, invoke,
                                                                      run_schedule, receiver):  # fmt: skip
    routes = [{"name": "page", "match": {"kind": "payment_failed"},
               "channels": [{"type": "pagerduty", "routing_key": "R0123456789abcdef0123456789abcd",
                             "events_url": receiver.url}]}]  # fmt: skip
    assert _put_routes(invoke, manager, project, routes).status == 200
    alert = _alert(invoke, alerter, project)
    run_schedule()
    reply = invoke("log/alert_resolve", engine=manager, path_params={"alert_id": alert["alert_id"]})
    assert reply.status == 200
    run_schedule()
    sent = receiver.bodies()
    assert [m["event_action"] for m in sent] == ["trigger", "resolve"]
    assert {m["dedup_key"] for m in sent} == {alert["alert_id"]}
    assert sent[0]["routing_key"] == "R0123456789abcdef0123456789abcd"
    assert sent[0]["payload"]["severity"] == "critical" and sent[0]["payload"]["summary"]
    events = [d["event"] for d in _show(invoke, manager, alert["alert_id"])["deliveries"]]
    assert events == ["alert.opened", "alert.resolved"]


def test_a_silenced_alert_is_recorded_but_not_sent(aws, project, alerter, manager, invoke, run_schedule, receiver):
    routes = [{"name": "all", "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]}]
    assert _put_routes(invoke, manager, project, routes).status == 200
    silence = invoke("log/silence_add", engine=manager, body={
        "project_id": project, "match": {"severity": "critical"}, "ends_at": clock.iso(clock.now() + 3600),
        "reason": "processor maintenance"})  # fmt: skip
    assert silence.status == 201, silence.body
    silence_id = silence.body["silence_id"]
    alert = _alert(invoke, alerter, project)
    run_schedule()
    assert receiver.requests == []
    assert alert["silenced_by"] == silence_id
    shown = _show(invoke, manager, alert["alert_id"])
    assert [d["status"] for d in shown["deliveries"]] == ["silenced"]
    listed = invoke("log/alerts", engine=manager, query={"project_id": project}).body["alerts"]
    assert [a["alert_id"] for a in listed] == [alert["alert_id"]]  # still listed
    assert wiring.current().monitoring.open_critical_alerts(project) == 1  # and counted by the gate
    # When the silence is deleted, the next alert is sent
    assert invoke("log/silence_delete", engine=manager, path_params={"silence_id": silence_id}).status == 204
    assert invoke("log/silences", engine=manager, query={"project_id": project}).body["silences"] == []
    _alert(invoke, alerter, project)
    run_schedule()
    assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_then_failed_and_reported(aws, project, alerter, manager, invoke, run_schedule,
                                                                 receiver, monkeypatch):  # fmt: skip
    receiver.status = 500
    routes = [{"name": "all", "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]}]
    assert _put_routes(invoke, manager, project, routes).status == 200
    alert = _alert(invoke, alerter, project)
    attempts = wiring.current().settings.dispatch_max_attempts
    now = clock.now()
    for step in range(attempts):
        run_schedule()
        (delivery,) = _show(invoke, manager, alert["alert_id"])["deliveries"]
        assert delivery["attempts"] == step + 1 and delivery["last_status_code"] == 500
        if step < attempts - 1:
            assert delivery["status"] == "pending"
            next_at = delivery["next_attempt_at"]
            assert next_at - now >= 30  # backoff: never right away
            now = next_at + 1
            monkeypatch.setattr(clock, "now", lambda at=now: at)
    assert delivery["status"] == "failed" and delivery["last_error"] == "HTTP 500"
    assert len(receiver.requests) == attempts
    kinds = [
        a["event_type"] for a in invoke("log/alerts", engine=manager, query={"project_id": project}).body["alerts"]
    ]
    assert "notification_failed" in kinds


def test_routes_are_masked_kept_when_masked_and_checked(aws, project, alerter, manager, admin, invoke, receiver):
    routes = [{"name": "hooks", "match": {"severity": "critical", "platform": "slack"}, "continue": True,
               "repeat_minutes": 30,
               "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET},
                            {"type": "slack", "webhook_url": receiver.url + "/slack-secret-path"}]}]  # fmt: skip
    assert _put_routes(invoke, manager, project, routes).status == 200
    shown = invoke("log/routes_get", engine=manager, path_params={"project_id": project}).body
    channels = shown["routes"][0]["channels"]
    assert channels[0]["secret"] == "****" + SECRET[-4:] and channels[1]["webhook_url"].startswith("****")
    assert SECRET not in json.dumps(shown) and "slack-secret-path" not in json.dumps(shown)
    assert shown["routes"][0]["continue"] is True and shown["routes"][0]["match"]["severity"] == ["critical"]
    # Sending the masks back keeps the secrets; an unknown mask is a 422
    assert _put_routes(invoke, manager, project, shown["routes"]).status == 200
    wrong = json.loads(json.dumps(shown["routes"]))
    wrong[0]["name"] = "renamed"
    reply = _put_routes(invoke, manager, project, wrong)
    assert reply.status == 422
    assert {d["field"] for d in reply.body["error"]["details"]} == {
        "body.routes.0.channels.0.secret", "body.routes.0.channels.1.webhook_url"}  # fmt: skip
    # Bad bodies: field-level 422s, nothing saved
    too_many = [{"name": f"r{i}", "channels": [{"type": "email"}]} for i in range(51)]
    assert _put_routes(invoke, manager, project, too_many).status == 422
    reply = _put_routes(invoke, manager, project, [{"name": "x", "channels": [{"type": "webhook", "url": receiver.url,
                                                                               "secret": "not-whsec"}]}])  # fmt: skip
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"].startswith("body.routes.0.channels.0")
    # Access: alerts:manage and the project's grant; the routes of "*" are admin only
    reader = _register(invoke, admin, "reader", ["logs:read"])
    assert invoke("log/routes_get", engine=reader, path_params={"project_id": project}).status == 403
    assert _put_routes(invoke, manager, "*", routes).status == 403
    assert _put_routes(invoke, admin, "*", [{"name": "all", "channels": [{"type": "email"}]}]).status == 200


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/", "https://127.0.0.1:8443/x",
     "https://10.1.2.3/x", "https://localhost/x", "http://example.com/x"],
)  # fmt: skip
def test_a_deployed_stack_refuses_private_and_plain_http_webhooks(aws, project, manager, invoke, monkeypatch, url):
    # Given the deployed configuration (AllowPrivateWebhooks=false)
    monkeypatch.setenv("PURAIFY_ALLOW_PRIVATE_WEBHOOKS", "false")
    wiring.reset()
    try:
        routes = [{"name": "meta", "channels": [{"type": "webhook", "url": url, "secret": SECRET}]}]
        reply = _put_routes(invoke, manager, project, routes)
        assert reply.status == 422, reply.body
        assert reply.body["error"]["details"][0]["field"] == "body.routes.0.channels.0.url"
        assert invoke("log/routes_get", engine=manager, path_params={"project_id": project}).body["routes"] == []
    finally:
        monkeypatch.undo()
        wiring.reset()
