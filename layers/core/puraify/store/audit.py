"""Audit records: one item per decision, expiring through the table's TTL attribute.

Key design: ``pk = ENGINE#<caller_id>``, ``sk = <timestamp>#<request_id>`` answers "what did this
engine ask, in order" (only its own authenticated requests: its ``last_seen_at``); the sparse index
``by_project`` (``project_pk = PROJECT#<project_id>``, ``project_sk = <timestamp>#<request_id>``)
answers "which decisions concern this project", and ``by_flow`` (``flow_pk =
PROJECT#<project_id>#FLOW#<flow_id>``, the same sort key) the same for one flow. Both are read newest
first with the time bound in the key condition, so no number of older records can hide a newer one.
Two more sparse indexes, sorted by the table's own ``sk``, serve the operator's audit views and
simulate (docs/checks.md states their write cost): ``by_subject`` (``subject_pk = CHECK#<engine_id>``:
the checks about an engine, whoever asked; ``subject_pk = ADMIN``: the admin changes) and
``by_platform`` (``platform_pk = PLATFORM#<platform>#<shard>``, ``PLATFORM_SHARDS`` partitions per
platform by crc32 of the key).
Rejected credentials are counted in aggregates, ``pk = AUTH#<YYYY-MM-DDTHH:MM>``, ``sk =
<engine_id>#<source>``: one item per source, claimed engine and minute, however many requests.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.audit import ADMIN_PARTITION, PLATFORM_SHARDS, REPLAYED
from puraify.clock import now
from puraify.errors import UnavailableError
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, query_all, to_item, to_value, unavailable

# What a replay reads that the keys already carry (``pk = ENGINE#<caller_id>``, ``sk = <timestamp>#...``): not
# projected, but taken from the keys (two attributes fewer for botocore to parse on each of 10,000 records).
_FROM_KEYS = {
    "caller_id": lambda record: record["pk"].removeprefix("ENGINE#"),
    "timestamp": lambda record: record["sk"].split("#", 1)[0],
}
BATCH_ATTEMPTS = 5  # BatchWriteItem calls per batch before giving up on unprocessed items (backoff 25 ms doubling)


class DynamoAuditStore:
    def __init__(self, table: str):
        self.table = table

    def put(self, record: dict[str, Any]) -> None:
        """Persist one audit record (built by ``puraify.audit``)."""
        try:
            client("dynamodb").put_item(TableName=self.table, Item=to_item(record))
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the audit log") from error

    def last_seen(self, engine_id: str) -> str | None:
        """The time of the engine's newest authenticated request among its last 25 records, or None.

        The partition holds only the engine's own requests (records live under their caller). Rejected
        credentials are counted elsewhere (``AUTH#`` aggregates); older ``auth`` records still found
        here do not count: a stranger guessing an id must not make a dormant engine look alive.
        """
        try:
            page = client("dynamodb").query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": to_value(f"ENGINE#{engine_id}")},
                ProjectionExpression="#k, #t",
                ExpressionAttributeNames={"#k": "kind", "#t": "timestamp"},
                ScanIndexForward=False,
                Limit=25,
            )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the audit log") from error
        seen = (from_item(item) for item in page.get("Items", []))
        return next((r["timestamp"] for r in seen if r.get("kind") != "auth"), None)

    def add_auth_failure(self, aggregate: dict[str, Any], sample: dict[str, Any], *, samples: int, at: str) -> int:
        """Add one rejected credential to its aggregate item (keyed by ``aggregate``'s ``pk``, ``sk``);
        returns the aggregate's count. Atomic (``UpdateItem ADD``): one call once the item holds
        ``samples`` samples, else up to two (the sample is appended while fewer are kept)."""
        key = {"pk": aggregate["pk"], "sk": aggregate["sk"]}
        fields = {k: v for k, v in aggregate.items() if k not in key}
        names = {"#c": "count", "#last": "last_at"}
        values = {":one": to_value(1), ":cap": to_value(samples), ":at": to_value(at)}
        common = {"TableName": self.table, "Key": to_item(key), "ReturnValues": "UPDATED_NEW"}
        ddb = client("dynamodb")
        try:
            try:  # the common case under a flood: the samples are kept, only count
                reply = ddb.update_item(
                    **common,
                    UpdateExpression="ADD #c :one SET #last = :at",
                    ConditionExpression="#c >= :cap",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
                sets = ["#last = :at", "#s = list_append(if_not_exists(#s, :none), :sample)"]
                for n, (name, value) in enumerate(sorted(fields.items())):
                    names[f"#f{n}"], values[f":f{n}"] = name, to_value(value)
                    sets.append(f"#f{n} = :f{n}")
                reply = ddb.update_item(
                    **common,
                    UpdateExpression=f"ADD #c :one SET {', '.join(sets)}",
                    ConditionExpression="attribute_not_exists(#c) OR #c < :cap",
                    ExpressionAttributeNames={**names, "#s": "samples"},
                    ExpressionAttributeValues={**values, ":none": to_value([]), ":sample": to_value([sample])},
                )
        except ClientError as error:
            if not is_condition_failure(error):  # another request took the last sample slot meanwhile
                raise unavailable(error, "the audit log") from error
            return self.add_auth_failure(aggregate, sample, samples=samples, at=at)
        except BotoCoreError as error:
            raise unavailable(error, "the audit log") from error
        return int(reply["Attributes"]["count"]["N"])

    def put_many(self, records: list[dict[str, Any]]) -> None:
        """Persist up to 25 audit records in one BatchWriteItem, retrying unprocessed ones with backoff.

        Raises UnavailableError when some are still unprocessed after ``BATCH_ATTEMPTS`` calls: the
        caller fails closed (records written by then stay; they are the decisions' own, never answered).
        """
        pending = [{"PutRequest": {"Item": to_item(r)}} for r in records]
        delay = 0.025
        for attempt in range(BATCH_ATTEMPTS):
            try:
                reply = client("dynamodb").batch_write_item(RequestItems={self.table: pending})
            except (BotoCoreError, ClientError) as error:
                raise unavailable(error, "the audit log") from error
            pending = reply.get("UnprocessedItems", {}).get(self.table, [])
            if not pending:
                return
            if attempt < BATCH_ATTEMPTS - 1:
                time.sleep(delay)
                delay *= 2
        raise UnavailableError("the audit log is temporarily unavailable; retry later", code="store_unavailable")

    def by_project(
        self, project_id: str, *, since: str = "", flow_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` unexpired decisions of a project (or of one of its flows) recorded at or
        after ``since`` (an RFC 3339 time; "" for all), newest first."""
        index, attribute, key = ("by_project", "project_pk", f"PROJECT#{project_id}")
        if flow_id is not None:
            index, attribute, key = ("by_flow", "flow_pk", f"PROJECT#{project_id}#FLOW#{flow_id}")
        return self._query(
            IndexName=index,
            KeyConditionExpression=f"{attribute} = :pk AND project_sk >= :since",
            ExpressionAttributeValues={
                ":pk": to_value(key),
                ":since": to_value(since or " "),
                ":now": to_value(int(now())),
            },
            ScanIndexForward=False,
            Limit=min(limit, 1000),
            limit=limit,
        )

    def by_engine(self, engine_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The unexpired decisions recorded for an engine, oldest first."""
        return self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": to_value(f"ENGINE#{engine_id}"), ":now": to_value(int(now()))},
            limit=limit,
        )

    def checks_about(
        self, engine_id: str, *, since: str, until: str, limit: int, replayed: bool = False
    ) -> list[dict[str, Any]]:
        """The unexpired checks about an engine (whoever asked) with ``since <= sk < until``, newest first
        (with ``replayed``, only the fields a replay reads)."""
        fields = REPLAYED if replayed else ()
        return self._window("by_subject", "subject_pk", f"CHECK#{engine_id}", since, until, limit, fields=fields)

    def checks_on(self, platform: str, *, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        """The unexpired checks of every engine on a platform with ``since <= sk < until``, newest first:
        one Query per shard, merged; at most ``limit`` (the newest). Only the fields a replay reads."""
        found: list[dict[str, Any]] = []
        for shard in range(PLATFORM_SHARDS):
            key = f"PLATFORM#{platform}#{shard}"
            found += self._window("by_platform", "platform_pk", key, since, until, limit, fields=REPLAYED)
        found.sort(key=lambda r: r["sk"], reverse=True)
        return found[:limit]

    def admin_changes(self, *, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        """The unexpired admin changes with ``since <= sk < until``, newest first."""
        return self._window("by_subject", "subject_pk", ADMIN_PARTITION, since, until, limit)

    def _window(
        self, index: str, attribute: str, key: str, since: str, until: str, limit: int, fields: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        since = since or " "
        if until <= since:
            return []  # DynamoDB rejects an inverted BETWEEN
        projection: dict[str, Any] = {}
        from_keys = [(name, _FROM_KEYS[name]) for name in fields if name in _FROM_KEYS]
        if fields:
            names = {f"#p{n}": name for n, name in enumerate(fields) if name not in _FROM_KEYS}
            projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        found = self._query(
            **projection,
            IndexName=index,
            KeyConditionExpression=f"{attribute} = :pk AND sk BETWEEN :since AND :until",
            ExpressionAttributeValues={
                ":pk": to_value(key),
                ":since": to_value(since),
                ":until": to_value(until),
                ":now": to_value(int(now())),
            },
            ScanIndexForward=False,
            Limit=limit + 1,  # pages end at DynamoDB's 1 MB: a replay of 10,000 checks is ~5 pages, not 10
            limit=limit + 1,
        )
        found = [r for r in found if r["sk"] < until][:limit]
        for record in found:
            for name, value in from_keys:
                record[name] = value(record)
        return found

    def _query(self, limit: int, **kwargs: Any) -> list[dict[str, Any]]:
        return query_all("the audit log", limit, TableName=self.table, FilterExpression="expires_at > :now", **kwargs)
