"""Project marks: which projects have events (AggregatesTable) or environments (EnvironmentsTable).

One item per project in the table's ``PROJECTS`` partition (``sk = <project_id>``), written when the
project's first event is ingested or its first environment created, so the console's project picker
lists projects with a Query instead of a Scan. An instance remembers what it has marked and writes
each project at most once (the ports are ``puraify.monitoring.ports.ProjectMarks`` and
``puraify.environments.ports.ProjectMarks``).

Projects whose events or environments were written before marks existed are marked by a one-time backfill:
the monitoring schedule calls ``backfill`` each pass, which scans one page (1 MB) of the table for the items
that name a project (``SOURCES``), marks them, and keeps its cursor in the table (``PROJECTS_BACKFILL``) until
the scan ends. Its cost is one read of the table, once in the stack's life (a 1 GB table: about 131,000 read
units, $0.03 on demand, at one page a minute about 17 hours); after it, one consistent GetItem per instance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.clock import iso, now
from puraify.store.clients import client
from puraify.store.items import to_item, to_value, unavailable

PARTITION = "PROJECTS"
BACKFILL = {"pk": "PROJECTS_BACKFILL", "sk": "STATE"}
# The items that name a project, per table: (scan filter, its values, the prefix of pk before the project id).
SOURCES: dict[str, tuple[str, dict[str, str], str]] = {
    "environments": ("sk = :project", {":project": "PROJECT"}, "PROJECT#"),  # a project's own record
    "events": ("begins_with(pk, :ag) AND begins_with(sk, :t)", {":ag": "AG#", ":t": "T#"}, "AG#"),  # event totals
}
REMEMBERED = 10_000  # projects an instance remembers as marked; past that it writes again (a harmless put)
_WHAT = "the project marks"


class DynamoProjectMarks:
    def __init__(self, table: str, source: str | None = None):
        self.table = table
        self.source = SOURCES[source] if source else None  # what the backfill reads; None: nothing to backfill
        self._marked: set[str] = set()
        self._backfilled = self.source is None

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

    def backfill(self) -> int:
        """One page of the one-time backfill: mark the projects named on it; how many ids it marked (0 once done)."""
        if self._backfilled or self.source is None:
            return 0
        condition, values, prefix = self.source
        try:
            state = client("dynamodb").get_item(TableName=self.table, Key=to_item(BACKFILL), ConsistentRead=True)
            state_item = state.get("Item") or {}
            if state_item.get("done", {}).get("BOOL"):
                self._backfilled = True
                return 0
            args: dict[str, Any] = {
                "TableName": self.table,
                "FilterExpression": condition,
                "ExpressionAttributeValues": {k: to_value(v) for k, v in values.items()},
                "ProjectionExpression": "pk",
            }
            if "cursor" in state_item:
                args["ExclusiveStartKey"] = json.loads(state_item["cursor"]["S"])
            found = client("dynamodb").scan(**args)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        ids = list(dict.fromkeys(item["pk"]["S"][len(prefix) :] for item in found.get("Items", [])))
        self.mark(ids)
        last = found.get("LastEvaluatedKey")
        record: dict[str, Any] = {**BACKFILL, "done": last is None, "at": iso(now())}
        if last is not None:
            record["cursor"] = json.dumps(last)
        try:
            client("dynamodb").put_item(TableName=self.table, Item=to_item(record))
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        self._backfilled = last is None
        return len(ids)

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
