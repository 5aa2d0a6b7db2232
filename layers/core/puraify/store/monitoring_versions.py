"""Per-version counters in the aggregates table (see ``puraify.monitoring.versions``), and their twin.

``pk = AG#<project>``, ``sk = V#<version>#<environment>#<window>``: one (version, environment) over
time is one key range; every environment of a version is one prefix. Version and environment are
percent-encoded in the key, so a ``#`` in either cannot collide with another's range.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.store.clients import client
from puraify.store.items import from_item, to_item, unavailable

_WHAT = "the version counters"


def _prefix(version: str, environment: str | None = None) -> str:
    head = f"V#{quote(version, safe='')}#"
    return head if environment is None else f"{head}{quote(environment, safe='')}#"


def _sk(version: str, environment: str, window_start: int) -> str:
    return f"{_prefix(version, environment)}{window_start:012d}"


class DynamoVersionCounterStore:
    def __init__(self, aggregates_table: str):
        self.table = aggregates_table

    def add_version_counts(
        self,
        project_id: str,
        version: str,
        environment: str,
        window_start: int,
        counts: dict[str, int],
        expires_at: int,
    ) -> None:
        """Add ``counts`` (events, errors, dur_n, dur_sum, histogram buckets) to one minute's counters."""
        names = {f"#c{i}": name for i, name in enumerate(sorted(counts))}
        values: dict[str, Any] = {f":c{i}": counts[name] for i, name in enumerate(sorted(counts))}
        values.update({":x": expires_at, ":w": window_start, ":v": version, ":e": environment})
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
        self._call(
            "update_item",
            TableName=self.table,
            Key=to_item({"pk": f"AG#{project_id}", "sk": _sk(version, environment, window_start)}),
            UpdateExpression=f"ADD {adds} SET expires_at = :x, window_start = :w, version = :v, environment = :e",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )

    def version_windows(
        self, project_id: str, version: str, environment: str, low: int, high: int
    ) -> list[dict[str, Any]]:
        """One (version, environment)'s unexpired minutes from ``low`` to ``high`` (window starts)."""
        return self._query(
            "pk = :p AND sk BETWEEN :lo AND :hi",
            {
                ":p": f"AG#{project_id}",
                ":lo": _sk(version, environment, max(low, 0)),
                ":hi": _sk(version, environment, max(high, 0)),
            },
        )

    def versions_seen(self, project_id: str, version: str) -> list[dict[str, Any]]:
        """Every unexpired minute of a version, in every environment."""
        return self._query("pk = :p AND begins_with(sk, :v)", {":p": f"AG#{project_id}", ":v": _prefix(version)})

    def _query(self, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": to_item({**values, ":now": int(clock.now())}),
        }
        items: list[dict[str, Any]] = []
        while True:
            page = self._call("query", **kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(client("dynamodb"), operation)(**kwargs)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error


class MemoryVersionCounterStore:
    """The same counters in memory, for unit tests."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add_version_counts(
        self,
        project_id: str,
        version: str,
        environment: str,
        window_start: int,
        counts: dict[str, int],
        expires_at: int,
    ) -> None:
        with self._lock:
            item = self.items.setdefault((project_id, _sk(version, environment, window_start)), {})
            for name, n in counts.items():
                item[name] = item.get(name, 0) + n
            item.update(expires_at=expires_at, window_start=window_start, version=version, environment=environment)

    def version_windows(
        self, project_id: str, version: str, environment: str, low: int, high: int
    ) -> list[dict[str, Any]]:
        lo, hi = _sk(version, environment, max(low, 0)), _sk(version, environment, max(high, 0))
        return [dict(i) for (p, sk), i in sorted(self.items.items()) if p == project_id and lo <= sk <= hi]

    def versions_seen(self, project_id: str, version: str) -> list[dict[str, Any]]:
        prefix = _prefix(version)
        return [dict(i) for (p, sk), i in sorted(self.items.items()) if p == project_id and sk.startswith(prefix)]
