"""Platforms, feature flags and global settings in the catalog table.

All catalog items share one partition (``pk = "CATALOG"``) so one Query loads the whole catalog
that a check needs; it is small (platforms and flags number in the hundreds) and read through a
cache, so that partition sees a read per function instance per cache TTL, not per request.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.engine_control.records import Catalog, Flag, Platform
from puraify.store.clients import client
from puraify.store.items import query_all, to_item, unavailable

PARTITION = "CATALOG"


class DynamoCatalogStore:
    def __init__(self, table: str):
        self.table = table

    def load(self) -> Catalog:
        """The whole catalog, read consistently in one (paginated) Query."""
        catalog = Catalog()
        for item in self._query():
            kind, _, name = item["sk"].partition("#")
            body = {k: v for k, v in item.items() if k not in ("pk", "sk")}
            if kind == "PLATFORM":
                catalog.platforms[name] = Platform.model_validate(body)
            elif kind == "FLAG":
                catalog.flags[name] = Flag.model_validate(body)
        return catalog

    def put_platform(self, platform: Platform) -> None:
        self._put("PLATFORM", platform.name, platform.model_dump())

    def put_flag(self, flag: Flag) -> None:
        self._put("FLAG", flag.name, flag.model_dump())

    def _put(self, kind: str, name: str, body: dict[str, Any]) -> None:
        try:
            client("dynamodb").put_item(
                TableName=self.table, Item=to_item({"pk": PARTITION, "sk": f"{kind}#{name}", **body})
            )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the platform catalog") from error

    def _query(self) -> list[dict[str, Any]]:
        return query_all(
            "the platform catalog",
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PARTITION}},
            ConsistentRead=True,
        )
