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
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.errors import UnavailableError
from puraify.store.clients import client
from puraify.store.items import error_code, from_item, is_condition_failure, to_item, to_value, unavailable
from puraify.store.monitoring_caps import DynamoAlertCaps

_KEYS = ("pk", "sk", "ts", "err_pk", "flow_pk", "user_pk", "session_pk", "pending", "unresolved_pk", "auto_pk")
# index -> (its partition attribute, the prefix of its value); the value is <prefix><project>#<subject>
SUBJECT_INDEXES = {"by_flow": ("flow_pk", "FL#"), "by_session": ("session_pk", "SE#"), "by_user": ("user_pk", "US#")}
SUBJECT_FIELDS = {"by_flow": "flow_id", "by_session": "session_id", "by_user": "user_id"}
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="puraify-monitoring")
HIGH = "~"  # sorts after every key character used here
UNRESOLVED = "UNRESOLVED"
LEDGER_PARTITIONS = 8  # ledgers of counts not yet applied: pk LG#0..7 in the aggregates table
GROUP_FIELDS = ("fingerprint", "error_type", "platform", "engine", "platform_key", "engine_key", "sample", "severity")
_RETRYABLE = frozenset(
    {"TransactionCanceledException", "TransactionConflictException", "ProvisionedThroughputExceededException",
     "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "TransactionInProgressException"}
)  # fmt: skip


def _pause(attempt: int) -> None:
    """Backoff with full jitter between retries of a conflicting or throttled write."""
    time.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.5)))  # noqa: S311 - jitter, not a secret


def window_key(window_start: int) -> str:
    """A window start (epoch seconds) as a fixed-width, sortable key part."""
    return f"{window_start:012d}"


def strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its table and index key attributes."""
    return {k: v for k, v in item.items() if k not in _KEYS}


class DynamoMonitoringStore(DynamoAlertCaps):
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

        100 keys per BatchGetItem, chunks in parallel; unprocessed keys are retried.
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

    def put_ledger(self, ledger: dict[str, Any]) -> None:
        """Store a ledger: the counts its events add, and which events it may create (for the repair pass)."""
        self._call(
            "the error aggregates", "put_item", TableName=self.aggregates_table, Item=to_item(self._ledger_item(ledger))
        )

    def create_events(
        self, records: list[dict[str, Any]], ledger_id: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        """Create each event that does not exist yet (``attribute_not_exists``), marked with ``ledger_id``.

        An event that exists already (a retry, or the same batch at another instance) is skipped:
        exactly one writer creates an event, and only that writer's ledger counts it. The events go
        in TransactWriteItems of up to 100 conditional Puts (and under 4 MB), one after another; a
        cancelled transaction names the events that failed their condition (stored by someone
        else: dropped) and the rest is written again. Transactions cost 2 write units per KB of
        item; a lone event is one conditional PutItem (1 unit). Returns the records created here
        and those DynamoDB refused, with the reason.
        """
        outcomes = [self._create_chunk(chunk, ledger_id) for chunk in _transaction_chunks(records)]
        created = [r for made, _ in outcomes for r in made]
        refused = [pair for _, bad in outcomes for pair in bad]
        return created, refused

    def _event_put(self, record: dict[str, Any], ledger_id: str) -> dict[str, Any]:
        return {
            "TableName": self.events_table,
            "Item": to_item({**self._event_item(record), "ledger_id": ledger_id}),
            "ConditionExpression": "attribute_not_exists(sk)",
            # the stored item tells a duplicate from our own write whose reply was lost and retried
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _create_chunk(
        self, records: list[dict[str, Any]], ledger_id: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        """One transaction of conditional Puts, repeated without the events that failed their condition."""
        if len(records) == 1:
            return self._create_one(records[0], ledger_id)
        pending = list(records)
        created: list[dict[str, Any]] = []
        refused: list[tuple[dict[str, Any], str]] = []
        attempt = 0
        while pending:
            try:
                client("dynamodb").transact_write_items(
                    TransactItems=[{"Put": self._event_put(r, ledger_id)} for r in pending],
                    ClientRequestToken=uuid.uuid4().hex,  # botocore's own retries of this call are idempotent
                )
                return created + pending, refused
            except ClientError as error:
                code = error_code(error)
                reasons = error.response.get("CancellationReasons") or []
                cancelled = code == "TransactionCanceledException"
                if code == "ValidationException" or (cancelled and len(reasons) != len(pending)):
                    # no reason per item: find the refused or existing event(s) one by one
                    for record in pending:
                        made, bad = self._create_one(record, ledger_id)
                        created += made
                        refused += bad
                    return created, refused
                if cancelled:
                    keep = []
                    for record, reason in zip(pending, reasons, strict=True):
                        if reason.get("Code") == "ConditionalCheckFailed":
                            if _ledger_of(reason.get("Item")) == ledger_id:
                                created.append(record)
                        elif reason.get("Code") == "ValidationError":
                            refused.append((record, _refusal(reason.get("Message", ""))))
                        else:  # None (fine), TransactionConflict, throttling: write it again
                            keep.append(record)
                    if len(keep) < len(pending):
                        pending = keep
                        continue  # progress: the rest goes again at once
                elif code not in _RETRYABLE:
                    raise unavailable(error, "the event log") from error
            except BotoCoreError as error:
                raise unavailable(error, "the event log") from error
            attempt += 1
            if attempt >= 10:
                raise UnavailableError("the event log is temporarily unavailable", code="store_unavailable")
            _pause(attempt)
        return created, refused

    def _create_one(
        self, record: dict[str, Any], ledger_id: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        try:
            client("dynamodb").put_item(**self._event_put(record, ledger_id))
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return ([record] if _ledger_of(error.response.get("Item")) == ledger_id else []), []
            if error_code(error) == "ValidationException":
                return [], [(record, _refusal(error.response.get("Error", {}).get("Message", "")))]
            raise unavailable(error, "the event log") from error
        except BotoCoreError as error:
            raise unavailable(error, "the event log") from error
        return [record], []

    def events_of_ledger(self, ledger: dict[str, Any]) -> list[dict[str, Any]]:
        """The events a ledger's writer actually created (they carry its ``ledger_id``)."""
        keys = [tuple(k) for k in ledger.get("events", [])]
        found: list[dict[str, Any]] = []
        for i in range(0, len(keys), 100):
            request = {
                self.events_table: {
                    "Keys": [to_item(self.event_key(p, e)) for p, e in keys[i : i + 100]],
                    "ConsistentRead": True,
                }
            }
            found += self._batch_get(request, self.events_table, "the event log")
        return [strip_keys(item) for item in found if item.get("ledger_id") == ledger["ledger_id"]]

    def _ledger_item(self, ledger: dict[str, Any]) -> dict[str, Any]:
        shard = int(ledger["ledger_id"][:8], 16) % LEDGER_PARTITIONS
        return {
            "pk": f"LG#{shard}",
            "sk": f"{clock.iso(ledger['at'])}#{ledger['ledger_id']}",
            "ledger_id": ledger["ledger_id"],
            "deltas": json.dumps(ledger, separators=(",", ":"), default=str),
            "expires_at": ledger["expires_at"],
        }

    def apply_ledgers(
        self, ledgers: list[dict[str, Any]], counts_of: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Add the ledgers' counts and delete the ledgers in one transaction; returns the ledgers applied here.

        A ledger already gone was applied by someone else (the repair pass, or the writer): it is
        left out and the rest applied, so every ledger is counted exactly once. At most 100 items:
        the caller groups ledgers so that their counters plus the ledgers fit.
        """
        pending = list(ledgers)
        for attempt in range(12):
            if not pending:
                return []
            updates = counts_of(pending)
            items = [{"Update": self._counter_update(u)} for u in updates] + [
                {
                    "Delete": {
                        "TableName": self.aggregates_table,
                        "Key": to_item({k: v for k, v in self._ledger_item(ledger).items() if k in ("pk", "sk")}),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
                for ledger in pending
            ]
            try:
                client("dynamodb").transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))
                return pending
            except ClientError as error:
                code = error_code(error)
                if code == "TransactionCanceledException":
                    reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                    gone = {i for i, c in enumerate(reasons[len(updates) :]) if c == "ConditionalCheckFailed"}
                    if gone:
                        pending = [ledger for i, ledger in enumerate(pending) if i not in gone]
                        continue
                elif code not in _RETRYABLE:
                    raise unavailable(error, "the error aggregates") from error
            except BotoCoreError as error:
                raise unavailable(error, "the error aggregates") from error
            _pause(attempt)
        raise UnavailableError("the error aggregates are temporarily unavailable", code="store_unavailable")

    def _counter_update(self, update: dict[str, Any]) -> dict[str, Any]:
        key = {"pk": f"AG#{update['project_id']}"}
        values: dict[str, Any] = {":x": update["expires_at"], ":w": update["window"]}
        if update["kind"] == "totals":
            key["sk"] = f"T#{window_key(update['window'])}"
            values.update({":e": update["events"], ":r": update["errors"]})
            expression = "ADD events :e, errors :r SET expires_at = :x, window_start = :w"
            names: dict[str, str] = {}
        else:
            key["sk"] = f"F#{window_key(update['window'])}#{update['fingerprint']}"
            values.update({":n": update["count"], ":first": update["first_seen"], ":last": update["last_seen"],
                           ":rcv": update["at"]})  # fmt: skip
            sets = ["first_seen = if_not_exists(first_seen, :first)", "last_seen = :last", "last_received = :rcv",
                    "expires_at = :x", "window_start = :w"]  # fmt: skip
            names = {}
            for field in GROUP_FIELDS:
                if update.get(field) is not None:
                    sets.append(f"#{field} = :{field}")
                    names[f"#{field}"] = field
                    values[f":{field}"] = update[field]
            if update.get("first_seen_version") is not None:
                sets.append("first_seen_version = if_not_exists(first_seen_version, :fv)")
                values[":fv"] = update["first_seen_version"]
            if update.get("last_seen_version") is not None:
                sets.append("last_seen_version = :lv")
                values[":lv"] = update["last_seen_version"]
            adds = "occurrences :n"
            if update.get("entitled"):
                adds += ", entitled :en"
                values[":en"] = update["entitled"]
            expression = f"ADD {adds} SET " + ", ".join(sets)
        found: dict[str, Any] = {
            "TableName": self.aggregates_table,
            "Key": to_item(key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            found["ExpressionAttributeNames"] = names
        return found

    def stale_ledgers(self, before: float, limit: int = 200) -> list[dict[str, Any]]:
        """Ledgers written before ``before`` and not applied yet (their writer failed or died)."""
        found: list[dict[str, Any]] = []
        for shard in range(LEDGER_PARTITIONS):
            kwargs = {
                "TableName": self.aggregates_table,
                "KeyConditionExpression": "pk = :p AND sk < :before",
                "ExpressionAttributeValues": to_item({":p": f"LG#{shard}", ":before": clock.iso(before)}),
            }
            items, _ = self._query_until(kwargs, limit - len(found), "the error aggregates")
            found += [json.loads(item["deltas"]) for item in items]
            if len(found) >= limit:
                break
        return found

    def group_counts(self, keys: list[tuple[str, int, str]]) -> dict[tuple[str, int, str], dict[str, Any]]:
        """``(project, window, fingerprint)`` -> ``{"occurrences", "entitled", "last_received"}``, read consistently."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, int, str], dict[str, Any]] = {}
        for i in range(0, len(wanted), 100):
            chunk = wanted[i : i + 100]
            request = {
                self.aggregates_table: {
                    "Keys": [to_item({"pk": f"AG#{p}", "sk": f"F#{window_key(w)}#{f}"}) for p, w, f in chunk],
                    "ConsistentRead": True,
                }
            }
            for item in self._batch_get(request, self.aggregates_table, "the error aggregates"):
                found[(item["pk"][3:], int(item["window_start"]), item["fingerprint"])] = {
                    "occurrences": int(item.get("occurrences", 0)),
                    "entitled": int(item.get("entitled", 0)),
                    "last_received": float(item.get("last_received", 0)),
                }
        return found

    def _batch_get(self, request: dict[str, Any], table: str, what: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for attempt in range(6):
            reply = self._call(what, "batch_get_item", RequestItems=request)
            found += [from_item(i) for i in reply["Responses"].get(table, [])]
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return found
            _pause(attempt)
        raise UnavailableError(f"{what} is temporarily unavailable; retry later", code="store_unavailable")

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

    def create_alert(self, alert: dict[str, Any]) -> None:
        """Store a new alert and the pointer that finds it by id; unresolved alerts are in ``unresolved``."""
        self._call(
            "the alert store",
            "put_item",
            TableName=self.alerts_table,
            Item=to_item(
                {
                    "pk": f"ID#{alert['alert_id']}",
                    "sk": "ALERT",
                    "project_id": alert["project_id"],
                    "alert_sk": _alert_key(alert)["sk"],
                    "expires_at": alert["expires_at"],
                }
            ),
        )
        item = {**strip_keys(alert), **_alert_key(alert), **_unresolved_keys(alert)}
        if alert.get("next_attempt_at") is not None:
            item["pending"] = "PENDING"
        self._call("the alert store", "put_item", TableName=self.alerts_table, Item=to_item(item))

    def update_delivery(self, alert: dict[str, Any]) -> None:
        """Record a delivery attempt (and when the next one is due), leaving status and severity alone."""
        values: dict[str, Any] = {":d": alert["delivery"]}
        if alert.get("next_attempt_at") is not None:
            expression = "SET delivery = :d, next_attempt_at = :n, pending = :p"
            values.update({":n": alert["next_attempt_at"], ":p": "PENDING"})
        else:
            expression = "SET delivery = :d REMOVE next_attempt_at, pending"
        self._call(
            "the alert store",
            "update_item",
            TableName=self.alerts_table,
            Key=to_item(_alert_key(alert)),
            UpdateExpression=expression,
            ExpressionAttributeValues=to_item(values),
        )

    def find_alert(self, alert_id: str) -> dict[str, Any] | None:
        """The alert with this id (through its pointer item), or None."""
        pointer = self._call(
            "the alert store",
            "get_item",
            TableName=self.alerts_table,
            Key=to_item({"pk": f"ID#{alert_id}", "sk": "ALERT"}),
            ConsistentRead=True,
        ).get("Item")
        if not pointer:
            return None
        found = from_item(pointer)
        return self._get_alert(found["project_id"], found["alert_sk"])

    def _get_alert(self, project_id: str, sk: str) -> dict[str, Any] | None:
        item = self._call(
            "the alert store",
            "get_item",
            TableName=self.alerts_table,
            Key=to_item({"pk": f"AL#{project_id}", "sk": sk}),
            ConsistentRead=True,
        ).get("Item")
        return from_item(item) if item else None

    def transition_alert(
        self, alert: dict[str, Any], to: str, allowed_from: tuple[str, ...], step: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Move an alert to ``to`` if its status is still one of ``allowed_from``; None if it is not.

        Resolving an alert raised from a fingerprint also releases the fingerprint (in the same
        transaction), so its next error opens a new alert, marked as a regression.
        """
        values: dict[str, Any] = {":to": to, ":step": [step], ":by": step["by"], ":at": step["at"]}
        allowed = []
        for n, status in enumerate(allowed_from):
            values[f":a{n}"] = status
            allowed.append(f":a{n}")
        expression = f"SET #s = :to, history = list_append(history, :step), {to}_by = :by, {to}_at = :at"
        if to == "resolved":
            expression += " REMOVE unresolved_pk, unresolved_sk"
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.alerts_table,
                    "Key": to_item(_alert_key(alert)),
                    "UpdateExpression": expression,
                    "ConditionExpression": f"#s IN ({', '.join(allowed)})",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": to_item(values),
                }
            }
        ]
        if to == "resolved" and alert.get("fingerprint"):
            items.append(
                {
                    "Update": {
                        "TableName": self.alerts_table,
                        "Key": to_item(_fingerprint_key(alert["project_id"], alert["fingerprint"])),
                        "UpdateExpression": (
                            "SET resolved_at = :at, expires_at = :x REMOVE alert_sk, alert_id, severity"
                        ),
                        "ExpressionAttributeValues": to_item({":at": step["at"], ":x": alert["expires_at"]}),
                    }
                }
            )
        try:
            client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or [{}]
            if (
                error_code(error) == "TransactionCanceledException"
                and reasons[0].get("Code") == "ConditionalCheckFailed"
            ):
                return None
            raise unavailable(error, "the alert store") from error
        except BotoCoreError as error:
            raise unavailable(error, "the alert store") from error
        return self._get_alert(alert["project_id"], _alert_key(alert)["sk"])

    def escalate_alert(
        self, alert_sk: str, project_id: str, severity: str, step: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Raise an unresolved alert's severity (recorded in its history); None if resolved or already there."""
        try:
            reply = client("dynamodb").update_item(
                TableName=self.alerts_table,
                Key=to_item({"pk": f"AL#{project_id}", "sk": alert_sk}),
                UpdateExpression="SET severity = :sev, message = :m, history = list_append(history, :step)",
                ConditionExpression="attribute_exists(pk) AND #s <> :resolved AND severity <> :sev",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item(
                    {":sev": severity, ":m": step["reason"], ":step": [step], ":resolved": "resolved"}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise unavailable(error, "the alert store") from error
        except BotoCoreError as error:
            raise unavailable(error, "the alert store") from error
        return from_item(reply["Attributes"])

    def list_alerts(
        self, project_id: str, *, status: str | None, severity: str | None, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """A project's unexpired alerts, newest first, created before the ``before`` key (a cursor)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":p": f"AL#{project_id}", ":hi": before or HIGH, ":now": int(clock.now())}
        conditions = ["expires_at > :now"]
        if status:
            names["#s"] = "status"
            values[":st"] = status
            conditions.append("#s = :st")
        if severity:
            values[":sev"] = severity
            conditions.append("severity = :sev")
        kwargs: dict[str, Any] = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p AND sk < :hi",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        return self._query_until(kwargs, limit, "the alert store")

    def count_unresolved(self, project_id: str, severity: str) -> int:
        """How many unexpired alerts of ``severity`` are not resolved (a consistent read of the project)."""
        kwargs: dict[str, Any] = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p",
            "FilterExpression": "expires_at > :now AND severity = :sev AND #s <> :resolved",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item(
                {":p": f"AL#{project_id}", ":now": int(clock.now()), ":sev": severity, ":resolved": "resolved"}
            ),
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        total = 0
        while True:
            page = self._call("the alert store", "query", **kwargs)
            total += page.get("Count", 0)
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def unresolved_fingerprint_alerts(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Every project's unresolved alerts raised from an error fingerprint (the auto-resolve pass)."""
        kwargs = {
            "TableName": self.alerts_table,
            "IndexName": "unresolved",
            "KeyConditionExpression": "unresolved_pk = :u",
            "FilterExpression": "attribute_exists(fingerprint)",
            "ExpressionAttributeValues": to_item({":u": UNRESOLVED}),
        }
        items, _ = self._query_until(kwargs, limit, "the alert store")
        return items

    def fingerprint_states(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """``(project, fingerprint)`` -> its alert state: the unresolved alert (``alert_sk``) and ``resolved_at``."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for i in range(0, len(wanted), 100):
            request = {
                self.alerts_table: {
                    "Keys": [to_item(_fingerprint_key(p, f)) for p, f in wanted[i : i + 100]],
                    "ConsistentRead": True,
                }
            }
            for item in self._batch_get(request, self.alerts_table, "the alert store"):
                found[(item["pk"][3:], item["sk"])] = item
        return found

    def claim_fingerprint(self, project_id: str, fingerprint: str, alert: dict[str, Any]) -> bool:
        """Make ``alert`` the fingerprint's one unresolved alert, unless another writer's already is."""
        return self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item(_fingerprint_key(project_id, fingerprint)),
            UpdateExpression="SET alert_sk = :sk, alert_id = :id, severity = :sev, expires_at = :x",
            ConditionExpression="attribute_not_exists(alert_sk)",
            ExpressionAttributeValues=to_item(
                {
                    ":sk": _alert_key(alert)["sk"],
                    ":id": alert["alert_id"],
                    ":sev": alert["severity"],
                    ":x": alert["expires_at"],
                }
            ),  # fmt: skip
        )

    def claim_escalation(self, project_id: str, fingerprint: str, alert_sk: str, severity: str) -> bool:
        """Take the escalation of the fingerprint's unresolved alert to ``severity`` (one writer wins)."""
        return self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item(_fingerprint_key(project_id, fingerprint)),
            UpdateExpression="SET severity = :sev",
            ConditionExpression="alert_sk = :sk AND severity <> :sev",
            ExpressionAttributeValues=to_item({":sk": alert_sk, ":sev": severity}),
        )

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


MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 3 * 1024 * 1024  # DynamoDB allows 4 MB; this leaves room for keys and attribute names


def _transaction_chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Records in groups that fit one TransactWriteItems: at most 100 items and well under 4 MB."""
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for record in records:
        record_size = len(json.dumps(record, default=str)) + 256
        if chunks[-1] and (len(chunks[-1]) >= MAX_TRANSACTION_ITEMS or size + record_size > MAX_TRANSACTION_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(record)
        size += record_size
    return [c for c in chunks if c]


def _ledger_of(item: dict[str, Any] | None) -> str | None:
    """The ``ledger_id`` of an event item as DynamoDB returned it (wire format), if any."""
    return ((item or {}).get("ledger_id") or {}).get("S")


def _refusal(message: str) -> str:
    return f"DynamoDB refused this event ({message[:200]})"


def _alert_key(alert: dict[str, Any]) -> dict[str, str]:
    return {"pk": f"AL#{alert['project_id']}", "sk": f"{alert['created_at']}#{alert['alert_id']}"}


def _unresolved_keys(alert: dict[str, Any]) -> dict[str, str]:
    if alert.get("status") == "resolved":
        return {}
    return {"unresolved_pk": UNRESOLVED, "unresolved_sk": f"{alert['project_id']}#{_alert_key(alert)['sk']}"}


def _fingerprint_key(project_id: str, fingerprint: str) -> dict[str, str]:
    return {"pk": f"FP#{project_id}", "sk": fingerprint}
