"""Alerts: stored first, then dispatched to SNS and Slack under flood control, retried with backoff.

Flood control keeps at most one notification per alert fingerprint per window; what it held
back is counted in the gate and reported by the next notification that goes out. An alert is
stored before any channel is tried, with the channels still owed, so a failed or interrupted
dispatch is retried by the ``DispatchRetry`` schedule (``retry_due``) until it succeeds or runs
out of attempts; nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from aws_lambda_powertools.metrics import MetricUnit

from puraify import clock
from puraify.cache import TtlCache
from puraify.errors import UnavailableError
from puraify.monitoring.fingerprint import at_least, normalize_message
from puraify.observability import logger, metrics

if TYPE_CHECKING:
    from puraify.runtime import Runtime

CHANNELS = ("sns", "slack")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


class ChannelFailure(Exception):
    """One channel could not deliver; the message is stored with the alert."""


class AlertStore(Protocol):
    def put_alert(self, alert: dict[str, Any]) -> None: ...
    def due_alerts(self, at: float, limit: int = 100) -> list[dict[str, Any]]: ...
    def claim_retry(self, alert: dict[str, Any], until: float) -> bool: ...
    def count_alerts(self, project_id: str, since: str, severity: str, status: str) -> int: ...
    def pass_gate(self, project_id: str, key: str, at: float, window: float, expires_at: int) -> tuple[bool, int]: ...


class Dispatcher:
    """Sends one alert to the configured channels; never raises, reports per channel."""

    def __init__(
        self,
        *,
        topic_arn: str,
        slack_parameter: str,
        parameters: Any,
        topic: Any,
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
                    self.topic.publish(self.topic_arn, _subject(alert), text)
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


def _subject(alert: dict[str, Any]) -> str:
    subject = f"[{alert['severity'].upper()}] {alert['project_id']}: {alert['event_type']}"
    return _UNPRINTABLE.sub(" ", subject)[:100]


def alert_text(alert: dict[str, Any]) -> str:
    """The notification text (Slack ``text``, SNS message)."""
    lines = [
        f"[{alert['severity'].upper()}] {alert['project_id']} - {alert['event_type']}",
        alert["message"],
        f"triggered by {alert['triggered_by']} at {alert['created_at']} (alert {alert['alert_id']})",
    ]
    if alert.get("flow_id"):
        lines.append(f"flow: {alert['flow_id']}")
    held = alert.get("suppressed_before") or 0
    if held:
        lines.append(f"{held} similar notification(s) suppressed since the last one")
    return "\n".join(lines)


@dataclass(frozen=True)
class AlertPolicy:
    notify_min_severity: str
    flood_window_seconds: float
    retention_days: int
    open_hours: int
    max_attempts: int
    grace_seconds: float


def backoff_seconds(attempts: int) -> float:
    """30 s, 60 s, 2 min, ... capped at one hour."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


def default_gate_key(event_type: str, triggered_by: str, message: str) -> str:
    """The flood-control key of a posted alert: the same kind of alert from the same source."""
    digest = hashlib.sha256(f"{event_type}\x1f{triggered_by}\x1f{normalize_message(message)}".encode()).hexdigest()
    return f"AL#{digest[:20]}"


class Alerts:
    """Raising, notifying and retrying alerts over an AlertStore and a Dispatcher."""

    def __init__(self, store: AlertStore, dispatcher: Dispatcher, policy: AlertPolicy):
        self.store = store
        self.dispatcher = dispatcher
        self.policy = policy

    def raise_alert(
        self,
        *,
        project_id: str,
        event_type: str,
        severity: str,
        message: str,
        triggered_by: str,
        flow_id: str | None = None,
        details: dict[str, Any] | None = None,
        gate_key: str | None = None,
        keep_suppressed: bool = True,
    ) -> dict[str, Any] | None:
        """Store an alert and notify it (subject to severity and flood control); returns its view.

        With ``keep_suppressed=False`` an alert held back by flood control is only counted, not
        stored, and None is returned (ingestion uses this so a flood does not become an alert flood).
        """
        at = clock.now()
        # AlertsRaised feeds the operations dashboard (template.yaml); flushed by each handler's log_metrics.
        metrics.add_metric(name="AlertsRaised", unit=MetricUnit.Count, value=1)
        alert: dict[str, Any] = {
            "alert_id": uuid.uuid4().hex,
            "project_id": project_id,
            "event_type": event_type,
            "severity": severity,
            "message": message,
            "triggered_by": triggered_by,
            "flow_id": flow_id,
            "details": details or None,
            "created_at": clock.iso(at),
            "status": "open",
            "expires_at": clock.expires_at(self.policy.retention_days, at),
        }
        if not at_least(severity, self.policy.notify_min_severity):
            alert["delivery"] = {"status": "not_required"}
            self.store.put_alert(alert)
            return view(alert)
        key = gate_key or default_gate_key(event_type, triggered_by, message)
        passed, held = self.store.pass_gate(project_id, key, at, self.policy.flood_window_seconds, alert["expires_at"])
        if not passed:
            if not keep_suppressed:
                return None
            alert["delivery"] = {"status": "suppressed"}
            self.store.put_alert(alert)
            return view(alert)
        alert["suppressed_before"] = held
        channels = self.dispatcher.channels()
        if not channels:
            alert["delivery"] = {"status": "no_channels"}
            self.store.put_alert(alert)
            return view(alert)
        alert["delivery"] = {"status": "pending", "attempts": 0, "channels": dict.fromkeys(channels, "pending")}
        # Stored as owed before trying: if this process dies mid-dispatch, the retry schedule delivers.
        alert["next_attempt_at"] = at + self.policy.grace_seconds
        self.store.put_alert(alert)
        self._attempt(alert, at)
        return view(alert)

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
        """Critical alerts raised for the project within the open period (``alert_open_hours``)."""
        since = clock.iso(clock.now() - self.policy.open_hours * 3600)
        return self.store.count_alerts(project_id, since, "critical", "open")

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
        self.store.put_alert(alert)


def view(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert as the API shows it."""
    status = alert.get("delivery", {}).get("status")
    shown = {k: v for k, v in alert.items() if k not in ("pk", "sk", "pending", "expires_at")}
    shown["notified"] = status == "delivered"
    shown["suppressed"] = status == "suppressed"
    return shown


def raise_alert(
    rt: Runtime, *, project_id: str, event_type: str, severity: str, message: str, triggered_by: str
) -> dict[str, Any]:
    """Raise an alert from another service in-process (e.g. the Planning Engine's fail-safe decisions).

    Returns the stored alert with ``alert_id`` and ``notified``; store failures raise UnavailableError.
    """
    from puraify.monitoring.service import monitoring

    found = monitoring(rt).alerts.raise_alert(
        project_id=project_id, event_type=event_type, severity=severity, message=message, triggered_by=triggered_by
    )
    assert found is not None
    return found
