"""The shared per-engine rate-limit totals in the AggregatesTable (the port is ``puraify.ratelimit.UsageStore``).

One item (``pk = RATE``, ``sk = TOTALS``) holds a running total per engine (and per engine's ingest
events): each function instance adds what it admitted, at most every few seconds, and reads back the
totals in the same UpdateItem. The registry is small, so the item stays far below DynamoDB's 400 KB.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.store.clients import client
from puraify.store.items import from_item, to_item, unavailable

PARTITION = "RATE"
TOTALS = "TOTALS"


class DynamoUsageStore:
    def __init__(self, table: str):
        self.table = table

    def add_usage(self, used: dict[str, int]) -> dict[str, int]:
        """``ADD`` each count to its total in one UpdateItem; returns the totals after the add."""
        if not used:
            return {}
        names = {f"#u{n}": key for n, key in enumerate(used)}
        values: dict[str, Any] = {f":u{n}": count for n, count in enumerate(used.values())}
        try:
            reply = client("dynamodb").update_item(
                TableName=self.table,
                Key=to_item({"pk": PARTITION, "sk": TOTALS}),
                UpdateExpression="ADD " + ", ".join(f"#u{n} :u{n}" for n in range(len(used))),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",  # moto leaves out a total that ADD 0 kept,
            )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the rate-limit totals") from error
        totals = from_item(reply.get("Attributes", {}))
        return {key: int(totals[key]) for key in used if key in totals}
