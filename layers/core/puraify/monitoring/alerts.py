"""Alerts: stored first, then dispatched to SNS and Slack under flood control, retried with backoff.

Flood control keeps at most one notification per alert fingerprint per window; what it held
back is counted in the gate and reported by the next notification that goes out. An alert is
stored before any channel is tried, with the channels still owed, so a failed or interrupted
dispatch is retried by the ``DispatchRetry`` schedule (``retry_due``) until it succeeds or runs
out of attempts; nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from aws_lambda_powertools.metrics import MetricUnit

from puraify import clock
from puraify.cache import TtlCache
from puraify.errors import ConflictError, NotFoundError, UnavailableError, ValidationFailedError
from puraify.monitoring.channels import alert_text, subject
from puraify.monitoring.fingerprint import at_least, normalize_message
from puraify.monitoring.ports import ENGINE_ALERTS, AlertStore, Parameters, Topic
from puraify.observability import logger, metrics

CHANNELS = ("sns", "slack")


class ChannelFailure(Exception):
    """One channel could not deliver; the message is stored with the alert."""


class Dispatcher:
    """Sends one alert to the configured channels; never raises, reports per channel."""

    def __init__(
        self,
        *,
        topic_arn: str,
        slack_parameter: str,
        parameters: Parameters,
        topic: Topic,
        timeout: float,
        parameter_ttl: float = 60.0,
    ):
        self.topic_arn = topic_arn
        self.slack_parameter = slack_parameter
        self.parameters = parameters
        self.topic = topic
        self.timeout = timeout
        self._urls: TtlCache[str, str | None] = TtlCache(parameter_ttl)
        self._http: httpx.Client | None = None

    def channels(self) -> list[str]:
        """The channels an alert is owed: SNS when a topic is set, Slack when its URL is in SSM."""
        found = ["sns"] if self.topic_arn else []
        if self.slack_parameter:
            try:
                if self._slack_url():
                    found.append("slack")
            except ChannelFailure:
                found.append("slack")  # configured but unreadable now: owed, and retried
        return found

    def send(self, alert: dict[str, Any], channels: list[str]) -> dict[str, str | None]:
        """Deliver to each of ``channels``: channel -> None when sent, else the error."""
        text = alert_text(alert)
        results: dict[str, str | None] = {}
        for channel in channels:
            try:
                if channel == "sns":
                    self.topic.publish(self.topic_arn, subject(alert), text)
                else:
                    self._post_slack(text)
                results[channel] = None
            except Exception as error:  # noqa: BLE001 - any channel failure is recorded and retried
                results[channel] = str(error)[:300] or type(error).__name__
        return results

    def _slack_url(self) -> str | None:
        try:
            return self._urls.get(self.slack_parameter, self.parameters.get)
        except Exception as error:  # noqa: BLE001 - SSM trouble is a channel failure, not a crash
            raise ChannelFailure(str(error)) from error

    def _post_slack(self, text: str) -> None:
        url = self._slack_url()
        if not url:
            raise ChannelFailure("slack webhook parameter is missing")
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout)
        try:
            reply = self._http.post(url, json={"text": text})
        except httpx.HTTPError as error:
            raise ChannelFailure(f"slack: {type(error).__name__}") from error
        if reply.status_code >= 300:
            raise ChannelFailure(f"slack: HTTP {reply.status_code}")


class RoutedAlerts(Protocol):
    """Routes, silences and deliveries, as raising and transitions use them (``Monitoring`` joins them)."""

    def plan_for(self, alert: dict[str, Any], at: float) -> Any: ...
    def record(self, alert: dict[str, Any], plan: Any, at: float) -> None: ...
    def transitioned(self, alert: dict[str, Any], to: str, at: float) -> None: ...


@dataclass(frozen=True)
class AlertPolicy:
    notify_min_severity: str
    flood_window_seconds: float
    retention_days: int
    open_hours: int
    max_attempts: int
    grace_seconds: float
    auto_resolve_minutes: int = 30
    window_seconds: int = 300


# A transition -> the states it applies to.
TRANSITIONS: dict[str, tuple[str, ...]] = {"acknowledged": ("open",), "resolved": ("open", "acknowledged")}


def backoff_seconds(attempts: int) -> float:
    """30 s, 60 s, 2 min, ... capped at one hour."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


def default_gate_key(event_type: str, triggered_by: str, message: str) -> str:
    """The flood-control key of a posted alert: the same kind of alert from the same source."""
    digest = hashlib.sha256(f"{event_type}\x1f{triggered_by}\x1f{normalize_message(message)}".encode()).hexdigest()
    return f"AL#{digest[:20]}"


class Alerts:
    """Raising, notifying and retrying alerts over an AlertStore and a Dispatcher."""

    def __init__(
        self, store: AlertStore, dispatcher: Dispatcher, policy: AlertPolicy, routes: RoutedAlerts | None = None
    ):
        self.store = store
        self.dispatcher = dispatcher
        self.policy = policy
        self.routes = routes

    def raise_alert(
        self,
        *,
        project_id: str,
        event_type: str,
        severity: str,
        message: str,
        triggered_by: str,
        raised_by: str = "monitoring",
        flow_id: str | None = None,
        details: dict[str, Any] | None = None,
        gate_key: str | None = None,
        fingerprint: str | None = None,
        regression: bool = False,
        claim: Any = None,
        route: bool = True,
    ) -> dict[str, Any] | None:
        """Store an alert (status ``open``) and notify it, subject to severity and flood control.

        ``claim(alert)`` (ingest's fingerprint claim) decides whether the alert is raised at all:
        when it returns False another writer raised it, and None is returned. An alert that a
        project route takes is only recorded with its deliveries owed (``monitoring.deliveries``);
        one a silence holds is recorded ``silenced_by`` it and not sent. ``route=False`` (the
        ``notification_failed`` alert) goes straight to the default channels.
        """
        at = clock.now()
        created = clock.iso(at)
        alert: dict[str, Any] = {
            "alert_id": uuid.uuid4().hex,
            "project_id": project_id,
            "event_type": event_type,
            "severity": severity,
            "message": message,
            "triggered_by": triggered_by,
            "raised_by": raised_by,
            "flow_id": flow_id,
            "details": details or None,
            "fingerprint": fingerprint,
            "regression": regression,
            "created_at": created,
            "status": "open",
            "history": [{"status": "open", "by": raised_by, "at": created}],
            "expires_at": clock.expires_at(self.policy.retention_days, at),
        }
        if claim is not None and not claim(alert):
            return None
        # AlertsRaised feeds the operations dashboard (template.yaml); flushed by each handler's log_metrics.
        metrics.add_metric(name="AlertsRaised", unit=MetricUnit.Count, value=1)
        plan = self.routes.plan_for(alert, at) if self.routes is not None and route else None
        if plan is not None and plan.silence is not None:
            alert["silenced_by"] = plan.silence["silence_id"]
        if plan is not None and plan.routed:
            alert["routes"] = [r["name"] for r in plan.routes]
            alert["delivery"] = {"status": "routed" if plan.silence is None else "silenced"}
            if plan.silence is None:
                passed, held = self.store.pass_gate(
                    project_id, gate_key or default_gate_key(event_type, triggered_by, message), at,
                    self.policy.flood_window_seconds, alert["expires_at"],
                )  # fmt: skip
                if not passed:
                    alert["delivery"] = {"status": "suppressed"}
                alert["suppressed_before"] = held
            self.store.create_alert(alert)
            if alert["delivery"]["status"] != "suppressed":
                try:
                    self.routes.record(alert, plan, at)  # type: ignore[union-attr]
                except Exception:  # noqa: BLE001 - a notification never fails the alert's write
                    logger.exception("the deliveries of an alert could not be recorded",
                                     extra={"alert_id": alert["alert_id"]})  # fmt: skip
            return view(alert)
        if plan is not None and plan.silence is not None:
            alert["delivery"] = {"status": "silenced"}
            self.store.create_alert(alert)
            return view(alert)
        if not at_least(severity, self.policy.notify_min_severity):
            alert["delivery"] = {"status": "not_required"}
            self.store.create_alert(alert)
            return view(alert)
        passed, held, channels = self._gate(alert, gate_key or default_gate_key(event_type, triggered_by, message), at)
        if channels:
            # Stored as owed before trying: if this process dies mid-dispatch, the retry schedule delivers.
            alert["next_attempt_at"] = at + self.policy.grace_seconds
        self.store.create_alert(alert)
        if channels:
            self._attempt(alert, at)
        return view(alert)

    def _gate(self, alert: dict[str, Any], key: str, at: float) -> tuple[bool, int, list[str]]:
        """Flood control, then the channels owed: sets ``delivery`` on the alert."""
        passed, held = self.store.pass_gate(
            alert["project_id"], key, at, self.policy.flood_window_seconds, alert["expires_at"]
        )
        if not passed:
            alert["delivery"] = {"status": "suppressed"}
            return False, 0, []
        alert["suppressed_before"] = held
        channels = self.dispatcher.channels()
        if not channels:
            alert["delivery"] = {"status": "no_channels"}
            return True, held, []
        alert["delivery"] = {"status": "pending", "attempts": 0, "channels": dict.fromkeys(channels, "pending")}
        return True, held, channels

    def escalate(
        self, alert_sk: str, project_id: str, severity: str, message: str, gate_key: str
    ) -> dict[str, Any] | None:
        """Raise an unresolved alert to ``severity`` and notify it again (flood control applies)."""
        at = clock.now()
        step = {"status": "escalated", "by": "monitoring", "at": clock.iso(at), "reason": message}
        alert = self.store.escalate_alert(alert_sk, project_id, severity, step)
        if alert is None:
            return None
        routed = alert.get("delivery", {}).get("status") in ("routed", "silenced")
        if at_least(severity, self.policy.notify_min_severity) and not routed:
            _, _, channels = self._gate(alert, gate_key, at)
            alert["next_attempt_at"] = at + self.policy.grace_seconds if channels else None
            self.store.update_delivery(alert)
            if channels:
                self._attempt(alert, at)
        return view(alert)

    def transition(self, alert_id: str, to: str, by: str, reason: str | None, authorize: Any = None) -> dict[str, Any]:
        """Acknowledge or resolve an alert; 404 if unknown, 409 (with the current state) if it no longer applies.

        ``authorize(project_id)`` runs before anything is changed (the caller's project grant).
        """
        alert = self.store.find_alert(alert_id)
        if alert is None:
            raise NotFoundError(f"no alert {alert_id!r}", code="alert_not_found")
        if authorize is not None:
            authorize(alert["project_id"])
        step = {"status": to, "by": by, "at": clock.iso(clock.now()), "reason": reason}
        changed = None
        if alert["status"] in TRANSITIONS[to]:
            changed = self.store.transition_alert(alert, to, TRANSITIONS[to], {k: v for k, v in step.items() if v})
        if changed is None:
            current = self.store.find_alert(alert_id) or alert
            raise ConflictError(
                f"the alert is {current['status']}; it cannot be {to}",
                code="alert_transition_conflict",
                details=[{"field": "status", "message": f"the alert is {current['status']}", "type": "conflict",
                          "status": current["status"], "alert": _plain(view(current))}],
            )  # fmt: skip
        self._transitioned(changed, to)
        return view(changed)

    def _transitioned(self, alert: dict[str, Any], to: str) -> None:
        """Owe the acknowledge/resolve notifications of a routed alert (never fails the transition)."""
        if self.routes is None or alert.get("delivery", {}).get("status") not in ("routed", "silenced"):
            return
        try:
            self.routes.transitioned(alert, to, clock.now())
        except Exception:  # noqa: BLE001 - a notification never fails a transition
            logger.exception("the notifications of a transition could not be recorded",
                             extra={"alert_id": alert["alert_id"]})  # fmt: skip

    def list_alerts(
        self, project_id: str, status: str | None, severity: str | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        """One page of a project's alerts, newest first, and the cursor of the next page (or None)."""
        before = decode_position(cursor) if cursor else None
        items, more = self.store.list_alerts(project_id, status=status, severity=severity, limit=limit, before=before)
        return {
            "alerts": [view(a) for a in items],
            "next_cursor": encode_position(f"{items[-1]['created_at']}#{items[-1]['alert_id']}")
            if more and items
            else None,
        }

    def auto_resolve(self, at: float | None = None) -> int:
        """Resolve every fingerprint alert whose fingerprint has been quiet for ``auto_resolve_minutes``."""
        at = clock.now() if at is None else at
        quiet_since = at - self.policy.auto_resolve_minutes * 60
        window = self.policy.window_seconds
        candidates = [
            a
            for a in self.store.unresolved_fingerprint_alerts()
            if clock.parse_iso(a["created_at"]) <= quiet_since and a["project_id"] != ENGINE_ALERTS
        ]  # an engine-level alert is resolved by an operator or by its cause going away (a key rotation)
        first = int(quiet_since // window) * window
        keys = [
            (a["project_id"], w, a["fingerprint"]) for a in candidates for w in range(first, int(at) + window, window)
        ]
        counts = self.store.group_counts(keys) if keys else {}
        resolved = 0
        for alert in candidates:
            last = max(
                (c["last_received"] for (p, _, f), c in counts.items()
                 if p == alert["project_id"] and f == alert["fingerprint"]),
                default=0.0,
            )  # fmt: skip
            if last > quiet_since:
                continue
            step = {
                "status": "resolved",
                "by": "monitoring",
                "at": clock.iso(at),
                "reason": f"no occurrence for {self.policy.auto_resolve_minutes} minutes",
            }
            try:
                changed = self.store.transition_alert(alert, "resolved", TRANSITIONS["resolved"], step)
                if changed is not None:
                    resolved += 1
                    self._transitioned(changed, "resolved")
            except UnavailableError:
                logger.warning("auto-resolve could not be stored", extra={"alert_id": alert["alert_id"]})
        return resolved

    def retry_due(self, at: float | None = None) -> dict[str, int]:
        """Retry every alert whose delivery is due; returns how many were tried, delivered, given up."""
        at = clock.now() if at is None else at
        summary = {"attempted": 0, "delivered": 0, "failed": 0}
        for alert in self.store.due_alerts(at):
            try:
                if not self.store.claim_retry(alert, at + self.policy.grace_seconds):
                    continue  # another run took it
                summary["attempted"] += 1
                self._attempt(alert, at)
            except UnavailableError:
                logger.warning("alert retry could not be stored", extra={"alert_id": alert.get("alert_id")})
                continue
            status = alert["delivery"]["status"]
            if status in ("delivered", "failed"):
                summary[status] += 1
        return summary

    def open_critical(self, project_id: str) -> int:
        """The project's critical alerts that are not resolved (open or acknowledged)."""
        return self.store.count_unresolved(project_id, "critical")

    def _attempt(self, alert: dict[str, Any], at: float) -> None:
        delivery = alert["delivery"]
        owed = [c for c, state in delivery["channels"].items() if state != "sent"]
        results = self.dispatcher.send(alert, owed)
        delivery["attempts"] = int(delivery.get("attempts", 0)) + 1
        errors = {}
        for channel, error in results.items():
            delivery["channels"][channel] = "sent" if error is None else "failed"
            if error is not None:
                errors[channel] = error
        if not errors:
            delivery["status"] = "delivered"
            delivery.pop("last_error", None)
            alert["next_attempt_at"] = None
        else:
            delivery["last_error"] = json.dumps(errors)[:1000]
            if delivery["attempts"] >= self.policy.max_attempts:
                delivery["status"] = "failed"
                alert["next_attempt_at"] = None
            else:
                delivery["status"] = "retrying"
                alert["next_attempt_at"] = at + backoff_seconds(delivery["attempts"])
        delivery["last_attempt_at"] = clock.iso(at)
        if errors:
            logger.warning("alert delivery failed", extra={"alert_id": alert["alert_id"], "errors": errors})
        self.store.update_delivery(alert)


def view(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert as the API shows it."""
    status = alert.get("delivery", {}).get("status")
    hidden = ("pk", "sk", "pending", "expires_at", "unresolved_pk", "unresolved_sk", "next_attempt_at")
    shown = {k: v for k, v in alert.items() if k not in hidden}
    shown.setdefault("raised_by", None)
    shown.setdefault("history", [{"status": "open", "by": shown.get("raised_by"), "at": alert["created_at"]}])
    if shown.get("project_id") == ENGINE_ALERTS:
        shown["project_id"] = None
        shown["engine_id"] = (alert.get("details") or {}).get("engine_id")
    shown["regression"] = bool(alert.get("regression"))
    shown["notified"] = status == "delivered"
    shown["suppressed"] = status == "suppressed"
    return shown


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def encode_position(position: str) -> str:
    """The opaque cursor of the page after the item at ``position`` (its sort key)."""
    return base64.urlsafe_b64encode(json.dumps({"before": position}).encode()).decode().rstrip("=")


def decode_position(cursor: str) -> str:
    """The position in a cursor from ``encode_position``; 422 on anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
        if not isinstance(position, str):
            raise TypeError(position)
        return position
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise ValidationFailedError(
            "1 invalid field(s)",
            details=[{"field": "query.cursor", "message": "not a cursor from this API", "type": "value_error"}],
        ) from error
