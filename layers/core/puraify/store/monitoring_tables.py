"""What Monitoring's two DynamoDB halves share: the tables, keys, retries and plumbing.

The key design is in ``puraify.store.monitoring``.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.errors import UnavailableError
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, unavailable

_KEYS = ("pk", "sk", "ts", "err_pk", "flow_pk", "user_pk", "session_pk", "pending", "unresolved_pk", "auto_pk")
# index -> (its partition attribute, the prefix of its value); the value is <prefix><project>#<subject>
SUBJECT_INDEXES = {"by_flow": ("flow_pk", "FL#"), "by_session": ("session_pk", "SE#"), "by_user": ("user_pk", "US#")}
SUBJECT_FIELDS = {"by_flow": "flow_id", "by_session": "session_id", "by_user": "user_id"}
pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="puraify-monitoring")
UNRESOLVED = "UNRESOLVED"
LEDGER_PARTITIONS = 8  # ledgers of counts not yet applied: pk LG#0..7 in the aggregates table
GROUP_FIELDS = ("fingerprint", "error_type", "platform", "engine", "platform_key", "engine_key", "sample", "severity")
RETRYABLE = frozenset(
    {"TransactionCanceledException", "TransactionConflictException", "ProvisionedThroughputExceededException",
     "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "TransactionInProgressException"}
)  # fmt: skip


def pause(attempt: int) -> None:
    """Backoff with full jitter between retries of a conflicting or throttled write."""
    time.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.5)))  # noqa: S311 - jitter, not a secret


def window_key(window_start: int) -> str:
    """A window start (epoch seconds) as a fixed-width, sortable key part."""
    return f"{window_start:012d}"


def strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its table and index key attributes."""
    return {k: v for k, v in item.items() if k not in _KEYS}


class MonitoringTables:
    """The three tables and the DynamoDB plumbing that the event and alert halves share."""

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

    def _batch_get(self, request: dict[str, Any], table: str, what: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for attempt in range(6):
            reply = self._call(what, "batch_get_item", RequestItems=request)
            found += [from_item(i) for i in reply["Responses"].get(table, [])]
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return found
            pause(attempt)
        raise UnavailableError(f"{what} is temporarily unavailable; retry later", code="store_unavailable")

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


def transaction_chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
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


def ledger_of(item: dict[str, Any] | None) -> str | None:
    """The ``ledger_id`` of an event item as DynamoDB returned it (wire format), if any."""
    return ((item or {}).get("ledger_id") or {}).get("S")


def refusal(message: str) -> str:
    return f"DynamoDB refused this event ({message[:200]})"


def alert_key(alert: dict[str, Any]) -> dict[str, str]:
    return {"pk": f"AL#{alert['project_id']}", "sk": f"{alert['created_at']}#{alert['alert_id']}"}


def unresolved_keys(alert: dict[str, Any]) -> dict[str, str]:
    if alert.get("status") == "resolved":
        return {}
    return {"unresolved_pk": UNRESOLVED, "unresolved_sk": f"{alert['project_id']}#{alert_key(alert)['sk']}"}


def fingerprint_key(project_id: str, fingerprint: str) -> dict[str, str]:
    return {"pk": f"FP#{project_id}", "sk": fingerprint}
