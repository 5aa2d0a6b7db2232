"""Monitoring's events table and aggregates: exactly-once event writes, ledgers of counts, queries."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.errors import UnavailableError
from puraify.monitoring.ports import HIGH
from puraify.store.clients import client
from puraify.store.items import error_code, to_item, to_value, unavailable
from puraify.store.monitoring_tables import (
    GROUP_FIELDS,
    LEDGER_PARTITIONS,
    RETRYABLE,
    SUBJECT_INDEXES,
    MonitoringTables,
    ledger_of,
    pause,
    pool,
    refusal,
    strip_keys,
    transaction_chunks,
    window_key,
)


class EventTables(MonitoringTables):
    # --- events ------------------------------------------------------------------------------

    def existing_events(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(project_id, event_id)`` pairs are already stored (for idempotent retries).

        100 keys per BatchGetItem, chunks in parallel; unprocessed keys are retried.
        """
        wanted = list(dict.fromkeys(keys))
        chunks = [wanted[i : i + 100] for i in range(0, len(wanted), 100)]
        return set().union(*pool.map(self._read_chunk, chunks))

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
        outcomes = [self._create_chunk(chunk, ledger_id) for chunk in transaction_chunks(records)]
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
                            if ledger_of(reason.get("Item")) == ledger_id:
                                created.append(record)
                        elif reason.get("Code") == "ValidationError":
                            refused.append((record, refusal(reason.get("Message", ""))))
                        else:  # None (fine), TransactionConflict, throttling: write it again
                            keep.append(record)
                    if len(keep) < len(pending):
                        pending = keep
                        continue  # progress: the rest goes again at once
                elif code not in RETRYABLE:
                    raise unavailable(error, "the event log") from error
            except BotoCoreError as error:
                raise unavailable(error, "the event log") from error
            attempt += 1
            if attempt >= 10:
                raise UnavailableError("the event log is temporarily unavailable", code="store_unavailable")
            pause(attempt)
        return created, refused

    def _create_one(
        self, record: dict[str, Any], ledger_id: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        try:
            client("dynamodb").put_item(**self._event_put(record, ledger_id))
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return ([record] if ledger_of(error.response.get("Item")) == ledger_id else []), []
            if error_code(error) == "ValidationException":
                return [], [(record, refusal(error.response.get("Error", {}).get("Message", "")))]
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
                elif code not in RETRYABLE:
                    raise unavailable(error, "the error aggregates") from error
            except BotoCoreError as error:
                raise unavailable(error, "the error aggregates") from error
            pause(attempt)
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
            if field == "engine_key":  # an event stored without an engine is its sender's
                names["#rb"] = "reported_by"
                conditions.append(f"(#f{n} = :f{n} OR (attribute_not_exists(#f{n}) AND #rb = :f{n}))")
            else:
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

        results = list(pool.map(one, partitions)) if len(partitions) > 1 else [one(partitions[0])]
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
