"""Project marks: which projects have events (AggregatesTable) or environments (EnvironmentsTable).

One item per project in the table's ``PROJECTS`` partition (``sk = <project_id>``), written when the
project's first event is ingested or its first environment created, so the console's project picker
lists projects with a Query instead of a Scan. An instance remembers what it has marked and writes
each project at most once (the ports are ``puraify.monitoring.ports.ProjectMarks`` and
``puraify.environments.ports.ProjectMarks``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.clock import iso, now
from puraify.store.clients import client
from puraify.store.items import to_item, to_value, unavailable

PARTITION = "PROJECTS"
REMEMBERED = 10_000  # projects an instance remembers as marked; past that it writes again (a harmless put)
_WHAT = "the project marks"


class DynamoProjectMarks:
    def __init__(self, table: str):
        self.table = table
        self._marked: set[str] = set()

    def mark(self, project_ids: Iterable[str]) -> None:
        """Mark each project not yet marked by this instance (one idempotent PutItem per new project)."""
        for project_id in dict.fromkeys(project_ids):
            if project_id in self._marked:
                continue
            try:
                client("dynamodb").put_item(
                    TableName=self.table,
                    Item=to_item(
                        {"pk": PARTITION, "sk": project_id, "project_id": project_id, "marked_at": iso(now())}
                    ),
                )
            except (BotoCoreError, ClientError) as error:
                raise unavailable(error, _WHAT) from error
            if len(self._marked) >= REMEMBERED:
                self._marked.clear()
            self._marked.add(project_id)

    def page(self, prefix: str, after: str | None, limit: int) -> tuple[list[str], bool]:
        """Up to ``limit`` marked projects starting with ``prefix`` and sorting after ``after``, in id order;
        and whether more may follow. One Query."""
        values: dict[str, Any] = {":pk": to_value(PARTITION)}
        condition = "pk = :pk"
        if prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = to_value(prefix)
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "sk",
            "Limit": limit,
        }
        if after:
            args["ExclusiveStartKey"] = to_item({"pk": PARTITION, "sk": after})
        try:
            found = client("dynamodb").query(**args)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        return [item["sk"]["S"] for item in found.get("Items", [])], "LastEvaluatedKey" in found

    def known(self, project_ids: list[str]) -> set[str]:
        """Which of ``project_ids`` (at most 100) are marked. One BatchGetItem (plus its unprocessed keys)."""
        if not project_ids:
            return set()
        keys = [to_item({"pk": PARTITION, "sk": p}) for p in dict.fromkeys(project_ids)]
        found: set[str] = set()
        request: dict[str, Any] = {self.table: {"Keys": keys, "ProjectionExpression": "sk"}}
        try:
            for _ in range(5):
                answer = client("dynamodb").batch_get_item(RequestItems=request)
                found |= {item["sk"]["S"] for item in answer.get("Responses", {}).get(self.table, [])}
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    return found
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        raise unavailable(ClientError({"Error": {"Code": "Unprocessed"}}, "BatchGetItem"), _WHAT)
