"""Routed notifications: recorded with the alert, delivered by the schedule, retried, then failed.

Raising, acknowledging or resolving a routed alert only records what is owed (one delivery per
alert event and channel, ``pending``): nothing is sent in the request, so a slow or failing receiver
never slows or fails ingest, an alert write or a transition. The ``DispatchRetry`` schedule (every
minute on AWS; every few seconds under ``make run``) delivers what is due (``deliver_due``), with
backoff between attempts (30 s, 1 min, 2 min, ... up to ``max_attempts``), then marks the delivery
``failed`` and raises a ``notification_failed`` alert to the stack's default channels.

A delivery of ``alert.opened`` whose route has ``repeat_minutes`` stays owed after it is delivered:
it is sent again every ``repeat_minutes`` while the alert is still open. A silenced alert's
deliveries are recorded ``silenced`` and are not sent; if their route repeats, they are sent at the
first repeat after the silence ends while the alert is still open, and never otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from puraify import clock
from puraify.errors import UnavailableError
from puraify.monitoring import channels
from puraify.monitoring.ports import RouteStore, Sender, Topic
from puraify.monitoring.routing import Plan, Routing
from puraify.observability import logger

SHOWN = (
    "delivery_id", "event", "route", "channel", "target", "status", "attempts", "last_status_code", "last_error",
    "delivered_at", "last_attempt_at", "next_attempt_at", "silenced_by", "created_at",
)  # fmt: skip
TRANSITION_EVENTS = {"acknowledged": "alert.acknowledged", "resolved": "alert.resolved"}


def backoff_seconds(failures: int) -> float:
    """30 s, 1 min, 2 min, 4 min, ... capped at one hour."""
    return float(min(30 * 2 ** max(failures - 1, 0), 3600))


def target(channel: dict[str, Any]) -> str:
    """Where a channel sends, masked: a webhook's scheme and host, a secret's last four characters."""
    kind = channel["type"]
    if kind == "webhook":
        parts = urlsplit(channel["url"])
        return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"
    if kind == "email":
        return channel.get("topic_arn") or "the stack's alerts topic"
    return channel.get("mask", "****")


class Deliveries:
    """Delivery records over a RouteStore; sends through the channels (``channels.send``)."""

    def __init__(
        self,
        store: RouteStore,
        find_alert: Callable[[str], dict[str, Any] | None],
        routing: Routing,
        sender: Sender,
        topic: Topic,
        *,
        default_topic_arn: str,
        max_attempts: int,
        grace_seconds: float,
    ):
        self.store = store
        self.find_alert = find_alert
        self.routing = routing
        self.sender = sender
        self.topic = topic
        self.default_topic_arn = default_topic_arn
        self.max_attempts = max_attempts
        self.grace_seconds = grace_seconds
        self.alarm: Callable[..., Any] | None = None  # raises notification_failed to the default channels

    # --- RoutedAlerts: what raising and transitions ask -------------------------------------------

    def plan_for(self, alert: dict[str, Any], at: float) -> Plan | None:
        """Where a new alert goes; None (the default channels, unsilenced) when the routes cannot be read."""
        try:
            return self.routing.plan(alert, at)
        except UnavailableError:
            logger.exception(
                "alert routes could not be read: default channels", extra={"project_id": alert["project_id"]}
            )
            return None

    def record(self, alert: dict[str, Any], plan: Plan, at: float) -> None:
        self.record_opened(alert, plan, at)

    def transitioned(self, alert: dict[str, Any], to: str, at: float) -> None:
        self.record_transition(alert, to, at)

    def record_opened(self, alert: dict[str, Any], plan: Plan, at: float) -> list[dict[str, Any]]:
        """Record the ``alert.opened`` deliveries of a routed alert (``silenced`` when a silence holds it)."""
        found = []
        silence = plan.silence
        for route in plan.routes:
            for channel in route["channels"]:
                delivery = self._new(alert, route, channel, "alert.opened", at)
                if silence is not None:
                    delivery["status"] = "silenced"
                    delivery["silenced_by"] = silence["silence_id"]
                    repeat = route.get("repeat_minutes")
                    ends = clock.parse_iso(silence["ends_at"])
                    delivery["next_attempt_at"] = max(ends, at + repeat * 60) if repeat else None
                found.append(delivery)
        self.store.put_deliveries(found)
        return found

    def record_transition(self, alert: dict[str, Any], to: str, at: float) -> int:
        """Record ``alert.acknowledged`` / ``alert.resolved`` for every channel the opening went to."""
        event = TRANSITION_EVENTS[to]
        opened = [d for d in self.store.deliveries(alert["alert_id"]) if d["event"] == "alert.opened"]
        found = [
            {**self._new(alert, {"name": d["route"], "repeat_minutes": None}, {}, event, at),
             **{k: d[k] for k in ("channel", "target", "config", "secret")}}
            for d in opened
            if d["status"] != "silenced"
        ]  # fmt: skip
        self.store.put_deliveries(found)
        return len(found)

    def _new(self, alert: dict[str, Any], route: dict[str, Any], channel: dict[str, Any], event: str, at: float):
        ref = route.get("_secret")
        return {
            "alert_id": alert["alert_id"],
            "project_id": alert["project_id"],
            "delivery_id": uuid.uuid4().hex,
            "created_at": clock.iso(at),
            "event": event,
            "route": route["name"],
            "channel": channel.get("type"),
            "target": target(channel) if channel else None,
            "config": {k: v for k, v in channel.items() if k in ("url", "events_url", "topic_arn")},
            "secret": {**ref, "key": channel["key"]} if ref and channel.get("key") else None,
            "repeat_minutes": route.get("repeat_minutes"),
            "status": "pending",
            "attempts": 0,
            "failures": 0,
            "next_attempt_at": at,
            "expires_at": alert["expires_at"],
        }

    def of_alert(self, alert_id: str) -> list[dict[str, Any]]:
        """An alert's deliveries as ``GET /monitoring/alerts/{alert_id}`` shows them, oldest first."""
        found = sorted(self.store.deliveries(alert_id), key=lambda d: (d["created_at"], d["delivery_id"]))
        return [{k: d.get(k) for k in SHOWN} for d in found]

    # --- the schedule's pass -----------------------------------------------------------------

    def deliver_due(self, at: float | None = None) -> dict[str, int]:
        """Send every delivery that is due; returns how many were tried, delivered and failed."""
        at = clock.now() if at is None else at
        summary = {"deliveries_attempted": 0, "deliveries_delivered": 0, "deliveries_failed": 0}
        for delivery in self.store.due_deliveries(at):
            try:
                if not self.store.claim_delivery(delivery, at + self.grace_seconds):
                    continue  # another run took it
                sent = self._due(delivery, at)
                self.store.update_delivery_record(delivery)
            except UnavailableError:
                logger.warning("a delivery could not be stored", extra={"delivery_id": delivery.get("delivery_id")})
                continue
            if sent:
                summary["deliveries_attempted"] += 1
                if delivery["status"] in ("delivered", "failed"):
                    summary[f"deliveries_{delivery['status']}"] += 1
        return summary

    def _due(self, delivery: dict[str, Any], at: float) -> bool:
        """Decide and make one due delivery's attempt (False when nothing was sent)."""
        alert = self.find_alert(delivery["alert_id"])
        if alert is None:
            delivery.update(status="failed", last_error="the alert no longer exists", next_attempt_at=None)
            return False
        repeat = delivery.get("repeat_minutes")
        if delivery["event"] == "alert.opened":
            if delivery["status"] in ("delivered", "silenced") and alert["status"] != "open":
                delivery["next_attempt_at"] = None  # nothing to repeat
                return False
            if delivery["status"] == "pending" and alert["status"] == "resolved":
                delivery.update(status="skipped", last_error="the alert was resolved before it was sent",
                                next_attempt_at=None)  # fmt: skip
                return False
            silence = self.routing.silence_of(alert, at)
            if silence is not None:
                ends = clock.parse_iso(silence["ends_at"])
                if delivery["status"] != "delivered":
                    delivery.update(status="silenced", silenced_by=silence["silence_id"])
                delivery["next_attempt_at"] = max(ends, at + repeat * 60) if repeat else None
                return False
        self._attempt(delivery, alert, at)
        return True

    def _attempt(self, delivery: dict[str, Any], alert: dict[str, Any], at: float) -> None:
        code: int | None = None
        error: str | None = None
        try:
            secret = None
            if delivery.get("secret"):
                ref = delivery["secret"]
                secret = self.routing.secret_values(ref["name"], ref["version"])[ref["key"]]
            code = channels.send(delivery, alert, secret, self.sender, self.topic, self.default_topic_arn,
                                 channels.alert_text(alert))  # fmt: skip
            if code is not None and not 200 <= code < 300:
                error = f"HTTP {code}"
        except Exception as failure:  # noqa: BLE001 - any channel failure is recorded and retried
            error = str(failure)[:300] or type(failure).__name__
        delivery["attempts"] = int(delivery.get("attempts", 0)) + 1
        delivery["last_attempt_at"] = clock.iso(at)
        delivery["last_status_code"] = code
        delivery["last_error"] = error
        if error is None:
            repeat = delivery.get("repeat_minutes")
            delivery.update(status="delivered", delivered_at=clock.iso(at), failures=0)
            delivery["next_attempt_at"] = at + repeat * 60 if repeat and delivery["event"] == "alert.opened" else None
            return
        delivery["failures"] = int(delivery.get("failures", 0)) + 1
        if delivery["failures"] < self.max_attempts:
            if delivery["status"] != "delivered":
                delivery["status"] = "pending"
            delivery["next_attempt_at"] = at + backoff_seconds(delivery["failures"])
            return
        delivery.update(status="failed", next_attempt_at=None)
        logger.warning("a notification failed", extra={"delivery_id": delivery["delivery_id"], "error": error})
        if self.alarm is not None:
            try:
                self.alarm(
                    project_id=alert["project_id"],
                    event_type="notification_failed",
                    severity="high",
                    message=(f"the {delivery['channel']} notification ({delivery['event']}) of alert "
                             f"{alert['alert_id']} failed after {delivery['attempts']} attempts: {error}"),
                    triggered_by="monitoring",
                    details={"alert_id": alert["alert_id"], "delivery_id": delivery["delivery_id"],
                             "route": delivery["route"], "channel": delivery["channel"],
                             "target": delivery["target"], "last_status_code": code, "last_error": error},
                    gate_key=f"NF#{alert['alert_id']}#{delivery['channel']}",
                    route=False,
                )  # fmt: skip
            except UnavailableError:
                logger.warning("notification_failed could not be raised", extra={"alert_id": alert["alert_id"]})
