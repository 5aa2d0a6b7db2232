"""Monitoring's data in DynamoDB: events, error aggregates, alerts and notification gates.

Key design (the why is in docs/monitoring.md):

events table
    ``pk = EV#<project>#<shard>``, ``sk = <event_id>``; ``shard = hash(event_id) % shards`` spreads
    a busy project over ``shards`` partitions, and the same event id always lands on the same item.
    ``ts = <timestamp>#<event_id>`` orders events in the indexes ``by_time`` (``pk``, ``ts``),
    ``errors`` (sparse ``err_pk``, errors only) and ``by_flow`` (``flow_pk = FL#<project>#<flow>``).
aggregates table
    ``pk = AG#<project>``; ``sk = T#<window>`` holds the events/errors counts of one window,
    ``sk = F#<window>#<fingerprint>`` one error group's count, first/last seen and a sample.
alerts table
    ``pk = AL#<project>``, ``sk = <created_at>#<alert_id>``; undelivered alerts also carry
    ``pending = PENDING`` and ``next_attempt_at`` (the sparse index ``pending``).
    ``pk = GATE#<project>``, ``sk = <gate key>``: the flood-control state of one alert fingerprint.
"""

from __future__ import annotations

from puraify.store.monitoring_alerts import AlertTables
from puraify.store.monitoring_caps import DynamoAlertCaps
from puraify.store.monitoring_events import EventTables
from puraify.store.monitoring_tables import GROUP_FIELDS, SUBJECT_FIELDS, window_key

__all__ = ["GROUP_FIELDS", "SUBJECT_FIELDS", "DynamoMonitoringStore", "window_key"]


class DynamoMonitoringStore(EventTables, AlertTables, DynamoAlertCaps):
    """Events, aggregates, alerts and gates (``monitoring.ports.MonitoringStore``); every method raises
    UnavailableError on store failure."""
