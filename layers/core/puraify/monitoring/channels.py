"""What each channel type of a route sends: Standard Webhooks, PagerDuty Events v2, Slack, email (SNS).

``send`` returns the receiver's status code (None for SNS) or raises ChannelError; a status code
outside 2xx is a failed attempt, retried by the delivery pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

from puraify import clock
from puraify.monitoring.ports import ENGINE_ALERTS, ChannelError, Sender, Topic

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_ACTIONS = {"alert.opened": "trigger", "alert.acknowledged": "acknowledge", "alert.resolved": "resolve"}
PAGERDUTY_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}
ALERT_FIELDS = (
    "alert_id", "project_id", "event_type", "severity", "message", "triggered_by", "raised_by", "flow_id",
    "details", "fingerprint", "regression", "status", "created_at", "acknowledged_at", "acknowledged_by",
    "resolved_at", "resolved_by", "silenced_by",
)  # fmt: skip

UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def origin(alert: dict[str, Any]) -> str:
    """What an alert is about in a notification: its project, or ``engine <id>`` for an engine-level alert."""
    project = alert.get("project_id")
    if project and project != ENGINE_ALERTS:
        return str(project)
    return f"engine {(alert.get('details') or {}).get('engine_id') or alert.get('engine_id')}"


def subject(alert: dict[str, Any]) -> str:
    """The SNS subject of the default channels."""
    subject = f"[{alert['severity'].upper()}] {origin(alert)}: {alert['event_type']}"
    return UNPRINTABLE.sub(" ", subject)[:100]


def alert_text(alert: dict[str, Any]) -> str:
    """The notification text (Slack ``text``, SNS message)."""
    lines = [
        f"[{alert['severity'].upper()}] {origin(alert)} - {alert['event_type']}",
        alert["message"],
        f"triggered by {alert['triggered_by']} at {alert['created_at']} (alert {alert['alert_id']})",
    ]
    if alert.get("flow_id"):
        lines.append(f"flow: {alert['flow_id']}")
    held = alert.get("suppressed_before") or 0
    if held:
        lines.append(f"{held} similar notification(s) suppressed since the last one")
    return "\n".join(lines)


def alert_payload(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert as receivers see it (no storage or delivery bookkeeping); an engine-level alert has no
    ``project_id`` but an ``engine_id``."""
    shown = {k: alert.get(k) for k in ALERT_FIELDS if alert.get(k) is not None}
    if shown.get("project_id") == ENGINE_ALERTS:
        del shown["project_id"]
        shown["engine_id"] = (alert.get("details") or {}).get("engine_id")
    return shown


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _body(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


def send(
    delivery: dict[str, Any],
    alert: dict[str, Any],
    secret: str | None,
    sender: Sender,
    topic: Topic,
    default_topic_arn: str,
    text: str,
) -> int | None:
    """Send one delivery (an alert event to one channel); returns the status code (None for SNS)."""
    channel, event, config = delivery["channel"], delivery["event"], delivery.get("config") or {}
    if channel == "webhook":
        assert secret is not None
        body = _body({"type": event, "timestamp": clock.iso(), "alert": alert_payload(alert)})
        stamp = int(clock.now())
        headers = {
            "webhook-id": delivery["delivery_id"],  # the same on every retry: receivers deduplicate on it
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(secret, delivery["delivery_id"], stamp, body),
        }
        return sender.post(config["url"], body, headers)
    if channel == "pagerduty":
        assert secret is not None
        action = PAGERDUTY_ACTIONS[event]
        message: dict[str, Any] = {"routing_key": secret, "event_action": action, "dedup_key": alert["alert_id"]}
        if action == "trigger":
            message["payload"] = {
                "summary": f"[{origin(alert)}] {alert['message']}"[:1024],
                "source": alert.get("triggered_by") or "puraify",
                "severity": PAGERDUTY_SEVERITY.get(alert["severity"], "error"),
                "component": origin(alert),
                "class": alert["event_type"],
                "custom_details": alert_payload(alert),
            }
        return sender.post(config.get("events_url") or PAGERDUTY_EVENTS_URL, _body(message), {})
    if channel == "slack":
        assert secret is not None
        return sender.post(secret, _body({"text": f"{event}: {text}"}), {})
    if channel == "email":
        subject = f"[{alert['severity'].upper()}] {origin(alert)}: {alert['event_type']} ({event})"
        topic.publish(config.get("topic_arn") or default_topic_arn, subject, f"{event}\n{text}")
        return None
    raise ChannelError(f"unknown channel type {channel!r}")
