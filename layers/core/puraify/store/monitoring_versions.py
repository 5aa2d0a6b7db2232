"""Per-version counters in the aggregates table (see ``puraify.monitoring.versions``), and their twin.

``pk = AG#<project>``, ``sk = V#<version>#<environment>#<window>#<reporter>``: one (version,
environment) over time is one key range, each reporting engine's minute one item; every environment
of a version is one prefix. ``sk = R#<environment>#<window>``: a minute's entitled events of one
environment. Version, environment and reporter are percent-encoded in the key, so a ``#`` in any of
them cannot collide with another's range.
"""

from __future__ import annotations

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


def _sk(version: str, environment: str, window_start: int, reporter: str = "") -> str:
    return f"{_prefix(version, environment)}{window_start:012d}#{quote(reporter, safe='')}"


def _last(version: str, environment: str, window_start: int) -> str:
    """Above every reporter's key of that minute ('$' sorts after '#'), below the next minute's."""
    return f"{_prefix(version, environment)}{window_start:012d}$"


def _reported_sk(environment: str, window_start: int) -> str:
    return f"R#{quote(environment, safe='')}#{window_start:012d}"


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
        reporter: str,
    ) -> None:
        """Add ``counts`` (events, errors, dur_n, dur_sum, histogram buckets) to one reporter's minute."""
        sk = _sk(version, environment, window_start, reporter)
        self._add(project_id, sk, counts, {":x": expires_at, ":w": window_start, ":v": version,
                                           ":e": environment, ":r": reporter})  # fmt: skip

    def add_reported_counts(
        self, project_id: str, environment: str, window_start: int, counts: dict[str, int], expires_at: int
    ) -> None:
        """Add entitled ``events``/``errors`` to one environment's minute."""
        sets = {":x": expires_at, ":w": window_start, ":e": environment}
        self._add(project_id, _reported_sk(environment, window_start), counts, sets)

    def _add(self, project_id: str, sk: str, counts: dict[str, int], sets: dict[str, Any]) -> None:
        names = {f"#c{i}": name for i, name in enumerate(sorted(counts))}
        values: dict[str, Any] = {f":c{i}": counts[name] for i, name in enumerate(sorted(counts))}
        values.update(sets)
        fields = {":x": "expires_at", ":w": "window_start", ":v": "version", ":e": "environment", ":r": "reporter"}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
        assigned = ", ".join(f"{fields[k]} = {k}" for k in sets)
        self._call(
            "update_item",
            TableName=self.table,
            Key=to_item({"pk": f"AG#{project_id}", "sk": sk}),
            UpdateExpression=f"ADD {adds} SET {assigned}",
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
                ":hi": _last(version, environment, max(high, 0)),
            },
        )

    def reported_windows(self, project_id: str, environment: str, low: int, high: int) -> list[dict[str, Any]]:
        """One environment's unexpired entitled-event minutes from ``low`` to ``high``."""
        return self._query(
            "pk = :p AND sk BETWEEN :lo AND :hi",
            {
                ":p": f"AG#{project_id}",
                ":lo": _reported_sk(environment, max(low, 0)),
                ":hi": _reported_sk(environment, max(high, 0)),
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
