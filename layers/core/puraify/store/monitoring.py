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

import hashlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.errors import UnavailableError
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, to_value, unavailable

_KEYS = ("pk", "sk", "ts", "err_pk", "flow_pk", "user_pk", "session_pk", "pending", "unresolved_pk", "auto_pk")
# index -> (its partition attribute, the prefix of its value); the value is <prefix><project>#<subject>
SUBJECT_INDEXES = {"by_flow": ("flow_pk", "FL#"), "by_session": ("session_pk", "SE#"), "by_user": ("user_pk", "US#")}
SUBJECT_FIELDS = {"by_flow": "flow_id", "by_session": "session_id", "by_user": "user_id"}
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="puraify-monitoring")
HIGH = "~"  # sorts after every key character used here


def window_key(window_start: int) -> str:
    """A window start (epoch seconds) as a fixed-width, sortable key part."""
    return f"{window_start:012d}"


def strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its table and index key attributes."""
    return {k: v for k, v in item.items() if k not in _KEYS}


class DynamoMonitoringStore:
    """Events, aggregates, alerts and gates; every method raises UnavailableError on store failure."""

    def __init__(self, events_table: str, aggregates_table: str, alerts_table: str, shards: int):
        self.events_table = events_table
        self.aggregates_table = aggregates_table
        self.alerts_table = alerts_table
        self.shards = shards

    # --- keys --------------------------------------------------------------------------------

    def shard(self, event_id: str) -> int:
        """The partition (0..shards-1) of an event id within its project: stable across retries."""
        return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=4).digest(), "big") % self.shards

    def event_key(self, project_id: str, event_id: str) -> dict[str, str]:
        """The primary key of an event."""
        return {"pk": f"EV#{project_id}#{self.shard(event_id)}", "sk": event_id}

    def _event_item(self, event: dict[str, Any]) -> dict[str, Any]:
        key = self.event_key(event["project_id"], event["event_id"])
        item = {**event, **key, "ts": f"{event['timestamp']}#{event['event_id']}"}
        if event.get("is_error"):
            item["err_pk"] = key["pk"]
        for index, (attribute, prefix) in SUBJECT_INDEXES.items():
            if event.get(SUBJECT_FIELDS[index]):
                item[attribute] = f"{prefix}{event['project_id']}#{event[SUBJECT_FIELDS[index]]}"
        for field in ("platform", "engine"):
            if event.get(field):
                item[f"{field}_key"] = event[field].lower()
        return item

    # --- events ------------------------------------------------------------------------------

    def existing_events(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(project_id, event_id)`` pairs are already stored (for idempotent retries).

        100 keys per BatchGetItem, chunks in parallel (like ``put_events``); unprocessed keys are retried.
        """
        wanted = list(dict.fromkeys(keys))
        chunks = [wanted[i : i + 100] for i in range(0, len(wanted), 100)]
        return set().union(*_pool.map(self._read_chunk, chunks))

    def _read_chunk(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        request = {
            self.events_table: {
                "Keys": [to_item(self.event_key(p, e)) for p, e in keys],
                "ProjectionExpression": "project_id, event_id",
            }
        }
        for attempt in range(6):
            reply = self._call("the event log", "batch_get_item", RequestItems=request)
            found.update((i["project_id"]["S"], i["event_id"]["S"]) for i in reply["Responses"][self.events_table])
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(0.02 * 2**attempt)
        raise UnavailableError("the event log is temporarily unavailable; retry later", code="store_unavailable")

    def put_events(self, events: list[dict[str, Any]]) -> None:
        """Store events, 25 per BatchWriteItem, chunks in parallel; unprocessed items are retried."""
        items = [to_item(self._event_item(e)) for e in events]
        chunks = [items[i : i + 25] for i in range(0, len(items), 25)]
        for _ in _pool.map(self._write_chunk, chunks):
            pass

    def _write_chunk(self, items: list[dict[str, Any]]) -> None:
        request = {self.events_table: [{"PutRequest": {"Item": item}} for item in items]}
        for attempt in range(8):
            reply = self._call("the event log", "batch_write_item", RequestItems=request)
            request = reply.get("UnprocessedItems") or {}
            if not request:
                return
            time.sleep(min(0.02 * 2**attempt, 1.0))
        raise UnavailableError("the event log is temporarily unavailable; retry later", code="store_unavailable")

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
    ) -> tuple[list[dict[str, Any]], bool]:
        """Unexpired events with ``low <= ts <= high`` from one index, merged across shards.

        ``key`` is the flow, session or user id for the ``by_flow``, ``by_session``, ``by_user`` indexes.
        Returns at most ``limit`` events (newest first unless told otherwise) and whether more exist.
        """
        if low > high:
            return [], False  # an empty range (DynamoDB refuses BETWEEN with bounds reversed)
        if index in SUBJECT_INDEXES:
            attribute, prefix = SUBJECT_INDEXES[index]
            partitions = [(attribute, f"{prefix}{project_id}#{key}")]
        else:
            attr = "err_pk" if index == "errors" else "pk"
            partitions = [(attr, f"EV#{project_id}#{shard}") for shard in range(self.shards)]
        names = {"#p": "", "#ts": "ts"}
        values = {":lo": to_value(low or " "), ":hi": to_value(high), ":now": to_value(int(clock.now()))}
        conditions = ["expires_at > :now"]
        for n, (field, value) in enumerate(sorted((filters or {}).items())):
            names[f"#f{n}"] = field
            values[f":f{n}"] = to_value(value)
            conditions.append(f"#f{n} = :f{n}")
        base: dict[str, Any] = {
            "TableName": self.events_table,
            "IndexName": index,
            "KeyConditionExpression": "#p = :p AND #ts BETWEEN :lo AND :hi",
            "FilterExpression": " AND ".join(conditions),
            "ScanIndexForward": not newest_first,
            "Limit": min(limit, 1000) if filters else min(limit + 1, 1000),
        }
        if attributes:
            for n, attribute in enumerate(attributes):
                names[f"#a{n}"] = attribute
            base["ProjectionExpression"] = ", ".join(["#ts"] + [f"#a{n}" for n in range(len(attributes))])

        def one(partition: tuple[str, str]) -> tuple[list[dict[str, Any]], bool]:
            kwargs = {
                **base,
                "ExpressionAttributeNames": {**names, "#p": partition[0]},
                "ExpressionAttributeValues": {**values, ":p": to_value(partition[1])},
            }
            return self._query_until(kwargs, limit + 1, "the event log")

        results = list(_pool.map(one, partitions)) if len(partitions) > 1 else [one(partitions[0])]
        merged = [item for items, _ in results for item in items]
        merged.sort(key=lambda i: i["ts"], reverse=newest_first)
        more = any(m for _, m in results) or len(merged) > limit
        return merged[:limit], more

    # --- aggregates --------------------------------------------------------------------------

    def add_totals(self, project_id: str, window_start: int, events: int, errors: int, expires_at: int) -> None:
        """Count ``events`` (of which ``errors``) into the project's window."""
        self._call(
            "the error aggregates",
            "update_item",
            TableName=self.aggregates_table,
            Key=to_item({"pk": f"AG#{project_id}", "sk": f"T#{window_key(window_start)}"}),
            UpdateExpression="ADD events :e, errors :r SET expires_at = :x, window_start = :w",
            ExpressionAttributeValues=to_item({":e": events, ":r": errors, ":x": expires_at, ":w": window_start}),
        )

    def add_error_group(self, project_id: str, window_start: int, group: dict[str, Any], expires_at: int) -> int:
        """Add ``group["count"]`` occurrences to one fingerprint's window; returns the window's new count."""
        values: dict[str, Any] = {
            ":n": group["count"],
            ":first": group["first_seen"],
            ":last": group["last_seen"],
            ":x": expires_at,
            ":w": window_start,
        }
        sets = [
            "first_seen = if_not_exists(first_seen, :first)",
            "last_seen = :last",
            "expires_at = :x",
            "window_start = :w",
        ]
        names: dict[str, str] = {}
        for field in (
            "fingerprint",
            "error_type",
            "platform",
            "engine",
            "platform_key",
            "engine_key",
            "sample",
            "severity",
        ):
            if group.get(field) is not None:
                sets.append(f"#{field} = :{field}")
                names[f"#{field}"] = field
                values[f":{field}"] = group[field]
        if group.get("first_seen_version") is not None:
            sets.append("first_seen_version = if_not_exists(first_seen_version, :fv)")
            values[":fv"] = group["first_seen_version"]
        if group.get("last_seen_version") is not None:
            sets.append("last_seen_version = :lv")
            values[":lv"] = group["last_seen_version"]
        kwargs: dict[str, Any] = {}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        reply = self._call(
            "the error aggregates",
            "update_item",
            TableName=self.aggregates_table,
            Key=to_item({"pk": f"AG#{project_id}", "sk": f"F#{window_key(window_start)}#{group['fingerprint']}"}),
            UpdateExpression="ADD occurrences :n SET " + ", ".join(sets),
            ExpressionAttributeValues=to_item(values),
            ReturnValues="UPDATED_NEW",
            **kwargs,
        )
        return int(from_item(reply["Attributes"])["occurrences"])

    def error_group_count(self, project_id: str, window_start: int, fingerprint: str) -> int:
        """One fingerprint's count in one window (0 if none)."""
        reply = self._call(
            "the error aggregates",
            "get_item",
            TableName=self.aggregates_table,
            Key=to_item({"pk": f"AG#{project_id}", "sk": f"F#{window_key(window_start)}#{fingerprint}"}),
            ProjectionExpression="occurrences",
        )
        return int(from_item(reply.get("Item") or {}).get("occurrences", 0))

    def error_groups(
        self, project_id: str, since_window: int, filters: dict[str, str] | None = None, limit: int = 50_000
    ) -> tuple[list[dict[str, Any]], bool]:
        """Every fingerprint window since ``since_window`` (optionally filtered); and whether truncated."""
        return self._aggregates(project_id, "F", since_window, filters, limit)

    def totals(self, project_id: str, since_window: int) -> tuple[list[dict[str, Any]], bool]:
        """The project's per-window event and error counts since ``since_window``."""
        return self._aggregates(project_id, "T", since_window, None, 50_000)

    def _aggregates(
        self, project_id: str, kind: str, since_window: int, filters: dict[str, str] | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        names: dict[str, str] = {}
        values = {
            ":p": f"AG#{project_id}",
            ":lo": f"{kind}#{window_key(since_window)}",
            ":hi": f"{kind}#{HIGH}",
            ":now": int(clock.now()),
        }
        conditions = ["expires_at > :now"]
        for n, (field, value) in enumerate(sorted((filters or {}).items())):
            names[f"#f{n}"] = field
            values[f":f{n}"] = value
            conditions.append(f"#f{n} = :f{n}")
        kwargs: dict[str, Any] = {
            "TableName": self.aggregates_table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        return self._query_until(kwargs, limit, "the error aggregates")

    # --- alerts ------------------------------------------------------------------------------

    def put_alert(self, alert: dict[str, Any]) -> None:
        """Store (or replace) an alert; one with a ``next_attempt_at`` is due for a delivery retry."""
        item = {**strip_keys(alert), **_alert_key(alert)}
        if alert.get("next_attempt_at") is not None:
            item["pending"] = "PENDING"
        self._call("the alert store", "put_item", TableName=self.alerts_table, Item=to_item(item))

    def claim_retry(self, alert: dict[str, Any], until: float) -> bool:
        """Take a due alert for one delivery attempt: moves its ``next_attempt_at`` to ``until`` only if
        nobody else did since it was read, so overlapping retry runs do not both send it."""
        return self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item(_alert_key(alert)),
            UpdateExpression="SET next_attempt_at = :until",
            ConditionExpression="next_attempt_at = :seen",
            ExpressionAttributeValues=to_item({":until": until, ":seen": alert["next_attempt_at"]}),
        )

    def alerts(self, project_id: str, since: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        """The project's unexpired alerts created at or after ``since``, oldest first."""
        kwargs = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": to_item(
                {":p": f"AL#{project_id}", ":lo": since or " ", ":hi": HIGH, ":now": int(clock.now())}
            ),
        }
        items, _ = self._query_until(kwargs, limit, "the alert store")
        return items

    def due_alerts(self, at: float, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts whose delivery retry is due at ``at``, most overdue first."""
        kwargs = {
            "TableName": self.alerts_table,
            "IndexName": "pending",
            "KeyConditionExpression": "pending = :p AND next_attempt_at <= :at",
            "ExpressionAttributeValues": to_item({":p": "PENDING", ":at": at}),
        }
        items, _ = self._query_until(kwargs, limit, "the alert store")
        return items

    def count_alerts(self, project_id: str, since: str, severity: str, status: str) -> int:
        """How many unexpired alerts of ``severity`` and ``status`` were created at or after ``since``."""
        kwargs: dict[str, Any] = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "FilterExpression": "expires_at > :now AND severity = :sev AND #s = :st",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":p": f"AL#{project_id}",
                    ":lo": since,
                    ":hi": HIGH,
                    ":now": int(clock.now()),
                    ":sev": severity,
                    ":st": status,
                }
            ),
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self._call("the alert store", "query", **kwargs)
            total += page.get("Count", 0)
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def pass_gate(self, project_id: str, key: str, at: float, window: float, expires_at: int) -> tuple[bool, int]:
        """Flood control: whether a notification for ``key`` may go out now, and how many were held back.

        Every attempt is counted first; the one that finds the window elapsed claims it with a
        conditional write (so of two racing attempts exactly one wins) and takes the count.
        """
        item_key = to_item({"pk": f"GATE#{project_id}", "sk": key})
        reply = self._call(
            "the alert store",
            "update_item",
            TableName=self.alerts_table,
            Key=item_key,
            UpdateExpression="ADD suppressed :one SET expires_at = :x",
            ExpressionAttributeValues=to_item({":one": 1, ":x": expires_at}),
            ReturnValues="ALL_NEW",
        )
        state = from_item(reply["Attributes"])
        last = state.get("last_notified_at")
        if last is not None and last > at - window:
            return False, 0
        seen = int(state["suppressed"])
        condition = "attribute_not_exists(last_notified_at)" if last is None else "last_notified_at = :last"
        values: dict[str, Any] = {":at": at, ":seen": seen}
        if last is not None:
            values[":last"] = last
        claimed = self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=item_key,
            UpdateExpression="SET last_notified_at = :at, suppressed = suppressed - :seen",
            ConditionExpression=condition,
            ExpressionAttributeValues=to_item(values),
        )
        return (True, seen - 1) if claimed else (False, 0)

    # --- plumbing ----------------------------------------------------------------------------

    def _call(self, what: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        method: Callable[..., dict[str, Any]] = getattr(client("dynamodb"), operation)
        try:
            return method(**kwargs)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, what) from error

    def _conditional_update(self, what: str, **kwargs: Any) -> bool:
        """An UpdateItem with a condition: False when the condition failed (someone else won)."""
        try:
            client("dynamodb").update_item(**kwargs)
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise unavailable(error, what) from error
        except BotoCoreError as error:
            raise unavailable(error, what) from error
        return True

    def _query_until(self, kwargs: dict[str, Any], limit: int, what: str) -> tuple[list[dict[str, Any]], bool]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._call(what, "query", **kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if len(items) >= limit:
                return items[:limit], True
            if "LastEvaluatedKey" not in page:
                return items, False
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _alert_key(alert: dict[str, Any]) -> dict[str, str]:
    return {"pk": f"AL#{alert['project_id']}", "sk": f"{alert['created_at']}#{alert['alert_id']}"}
