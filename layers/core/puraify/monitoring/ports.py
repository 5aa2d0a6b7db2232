"""What Monitoring needs from outside itself: its stores and its notification channels.

Implemented by the adapters of ``puraify.store`` (DynamoDB, SNS, SSM) and by the fakes of
``tests/fakes``, each held to the same behaviour by ``tests/contract``; joined in ``puraify.wiring``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

HIGH = "~"  # the upper bound of a key range: sorts after every key character the stores use
# Where engine-level alerts (``key_expiring``, ``engine_anomaly``: about an engine, of no project) are kept.
# Not a valid project id ('#'), so no project, route or silence can name it: only ``*`` routes deliver them,
# and only callers granted ``*`` see them. The API shows their ``project_id`` as null.
ENGINE_ALERTS = "#engines"


class ChannelError(Exception):
    """A notification channel failed; the message is safe to store with the alert."""


class EventLog(Protocol):
    """Events, the ledgers of counts not yet applied, and the per-window error groups."""

    def shard(self, event_id: str) -> int: ...
    def event_key(self, project_id: str, event_id: str) -> dict[str, str]: ...
    def existing_events(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...
    def put_ledger(self, ledger: dict[str, Any]) -> None: ...
    def create_events(
        self, records: list[dict[str, Any]], ledger_id: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]: ...
    def events_of_ledger(self, ledger: dict[str, Any]) -> list[dict[str, Any]]: ...
    def apply_ledgers(
        self, ledgers: list[dict[str, Any]], counts_of: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]: ...
    def stale_ledgers(self, before: float, limit: int = 200) -> list[dict[str, Any]]: ...
    def group_counts(self, keys: list[tuple[str, int, str]]) -> dict[tuple[str, int, str], dict[str, Any]]: ...
    def query_events(
        self,
        project_id: str,
        *,
        index: str,
        key: str | None = None,
        low: str = "",
        high: str = HIGH,
        filters: dict[str, str] | None = None,
        limit: int,
        newest_first: bool = True,
        attributes: list[str] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]: ...
    def error_groups(
        self, project_id: str, since_window: int, filters: dict[str, str] | None = None, limit: int = 50_000
    ) -> tuple[list[dict[str, Any]], bool]: ...
    def totals(self, project_id: str, since_window: int) -> tuple[list[dict[str, Any]], bool]: ...


class AlertStore(Protocol):
    """Alerts, their fingerprints' states, and the flood gate."""

    def create_alert(self, alert: dict[str, Any]) -> None: ...
    def update_delivery(self, alert: dict[str, Any]) -> None: ...
    def find_alert(self, alert_id: str) -> dict[str, Any] | None: ...
    def transition_alert(
        self, alert: dict[str, Any], to: str, allowed_from: tuple[str, ...], step: dict[str, Any]
    ) -> dict[str, Any] | None: ...
    def escalate_alert(
        self, alert_sk: str, project_id: str, severity: str, step: dict[str, Any]
    ) -> dict[str, Any] | None: ...
    def list_alerts(
        self, project_id: str, *, status: str | None, severity: str | None, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]: ...
    def count_unresolved(self, project_id: str, severity: str) -> int: ...
    def unresolved_fingerprint_alerts(self, limit: int = 1000) -> list[dict[str, Any]]: ...
    def group_counts(self, keys: list[tuple[str, int, str]]) -> dict[tuple[str, int, str], dict[str, Any]]: ...
    def fingerprint_states(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]: ...
    def claim_fingerprint(self, project_id: str, fingerprint: str, alert: dict[str, Any]) -> bool: ...
    def claim_escalation(self, project_id: str, fingerprint: str, alert_sk: str, severity: str) -> bool: ...
    def claim_retry(self, alert: dict[str, Any], until: float) -> bool: ...
    def alerts(self, project_id: str, since: str = "", limit: int = 1000) -> list[dict[str, Any]]: ...
    def due_alerts(self, at: float, limit: int = 100) -> list[dict[str, Any]]: ...
    def pass_gate(self, project_id: str, key: str, at: float, window: float, expires_at: int) -> tuple[bool, int]: ...
    def take_alert_slots(self, scope: str, minute: int, wanted: int, cap: int) -> int: ...
    def add_to_storm(
        self, project_id: str, alert_sk: str, held: int, samples: list[str], reporter: str | None
    ) -> bool: ...


class MonitoringStore(EventLog, AlertStore, Protocol):
    """The events, aggregates and alerts tables together, as ingest and the queries use them."""


class VersionCounterStore(Protocol):
    def add_version_counts(
        self,
        project_id: str,
        version: str,
        environment: str,
        window_start: int,
        counts: dict[str, int],
        expires_at: int,
        reporter: str,
    ) -> None: ...

    def add_reported_counts(
        self, project_id: str, environment: str, window_start: int, counts: dict[str, int], expires_at: int
    ) -> None: ...

    def reported_windows(self, project_id: str, environment: str, low: int, high: int) -> list[dict[str, Any]]: ...

    def version_windows(
        self, project_id: str, version: str, environment: str, low: int, high: int
    ) -> list[dict[str, Any]]: ...

    def versions_seen(self, project_id: str, version: str) -> list[dict[str, Any]]: ...


class CheckCounts(Protocol):
    """Engine Control's per-minute check counts, as the overview reads them."""

    def minutes(self, first: str, last: str) -> list[dict[str, Any]]: ...


class DeploymentStates(Protocol):
    """The Environment Manager's latest deployment per environment of a project: ``[{environment, state, version}]``."""

    def __call__(self, project_id: str, limit: int) -> list[dict[str, Any]]: ...


class PolicyBundle(Protocol):
    """The Planning Engine's active policy bundle: ``{revision, sha256}``, None when none is published."""

    def __call__(self) -> dict[str, Any] | None: ...


class EventStore(Protocol):
    """The engine events of ``POST /log/engine_event``."""

    def put(self, event: dict[str, Any]) -> None: ...


class AuditReader(Protocol):
    """Engine Control's audited decisions, as the audit timeline reads them (the audit table)."""

    def by_project(
        self, project_id: str, *, since: str = "", flow_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]: ...
    def checks_about(self, engine_id: str, *, since: str, until: str, limit: int) -> list[dict[str, Any]]: ...
    def admin_changes(self, *, since: str, until: str, limit: int) -> list[dict[str, Any]]: ...


class Parameters(Protocol):
    """Where the Slack webhook URL is kept (SSM): None when the parameter does not exist; ChannelError."""

    def get(self, name: str) -> str | None: ...


class Topic(Protocol):
    """The alerts topic (SNS): returns the message id; ChannelError."""

    def publish(self, topic_arn: str, subject: str, message: str) -> str: ...


class RouteStore(Protocol):
    """Alert routes and silences per project, and the delivery records of routed notifications.

    A project's routes are one document (``None`` until first saved); silences are found by id and
    listed by project. A delivery is one notification of one alert event to one channel, owed while
    ``next_attempt_at`` is set (``due_deliveries``), claimed for one attempt by ``claim_delivery``.
    """

    def get_routes(self, project_id: str) -> dict[str, Any] | None: ...
    def put_routes(self, project_id: str, document: dict[str, Any]) -> None: ...
    def put_silence(self, silence: dict[str, Any]) -> None: ...
    def find_silence(self, silence_id: str) -> dict[str, Any] | None: ...
    def delete_silence(self, silence_id: str) -> bool: ...
    def silences(self, project_id: str) -> list[dict[str, Any]]: ...
    def put_deliveries(self, deliveries: list[dict[str, Any]]) -> None: ...
    def deliveries(self, alert_id: str) -> list[dict[str, Any]]: ...
    def due_deliveries(self, at: float, limit: int = 100) -> list[dict[str, Any]]: ...
    def claim_delivery(self, delivery: dict[str, Any], until: float) -> bool: ...
    def update_delivery_record(self, delivery: dict[str, Any]) -> None: ...


class ChannelSecrets(Protocol):
    """Where channel secrets are kept (Secrets Manager): one entry per project, a version per save."""

    def put(self, project_id: str, env: str, variable: str, value: str, token: str) -> tuple[str, str]: ...
    def get(self, name: str, version: str) -> str: ...


class Sender(Protocol):
    """Outbound HTTP of notifications: POST ``body`` (bytes) to ``url``; returns the status code.

    Raises ChannelError when no answer came (refused, timeout, refused by the address guard).
    """

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int: ...


class ProjectMarks(Protocol):
    """Which projects have events (written at ingest) or environments: the project picker's registry.

    ``mark`` writes each project at most once per instance; ``page`` lists marked projects in id order,
    ``known`` says which of some ids are marked; ``backfill`` marks, a page per call, the projects written
    before marks existed, and answers how many it marked (0 once done).
    """

    def mark(self, project_ids: Iterable[str]) -> None: ...
    def backfill(self) -> int: ...
    def page(self, prefix: str, after: str | None, limit: int) -> tuple[list[str], bool]: ...
    def known(self, project_ids: list[str]) -> set[str]: ...
