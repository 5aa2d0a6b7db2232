"""Per-minute check counts in the AggregatesTable (the port is ``puraify.engine_control.ports.CheckCountStore``)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.clock import now
from puraify.store.clients import client
from puraify.store.items import query_all, to_item, to_value, unavailable

PARTITION = "CHECKS"  # one item per minute: sk = MIN#<minute>


class DynamoCheckCountStore:
    def __init__(self, table: str):
        self.table = table

    def add(self, minute: str, counts: dict[str, int], expires_at: int) -> None:
        """Add ``counts`` to the minute's item in one UpdateItem (``ADD`` creates missing numbers)."""
        names = {f"#c{n}": name for n, name in enumerate(counts)}
        values: dict[str, Any] = {f":c{n}": value for n, value in enumerate(counts.values())}
        values[":x"] = expires_at
        adds = ", ".join(f"#c{n} :c{n}" for n in range(len(counts)))
        try:
            client("dynamodb").update_item(
                TableName=self.table,
                Key=to_item({"pk": PARTITION, "sk": f"MIN#{minute}"}),
                UpdateExpression=f"ADD {adds} SET expires_at = :x",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the check counts") from error

    def minutes(self, first: str, last: str) -> list[dict[str, Any]]:
        """The unexpired minute items from ``first`` to ``last`` (``YYYY-MM-DDTHH:MM``, inclusive), oldest first."""
        return query_all(
            "the check counts",
            None,
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            FilterExpression="expires_at > :now",
            ExpressionAttributeValues={
                ":pk": to_value(PARTITION),
                ":lo": to_value(f"MIN#{first}"),
                ":hi": to_value(f"MIN#{last}"),
                ":now": to_value(int(now())),
            },
        )
