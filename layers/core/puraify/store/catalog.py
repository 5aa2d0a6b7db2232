"""Platforms, feature flags and global settings in the catalog table.

All catalog items share one partition (``pk = "CATALOG"``) so one Query loads the whole catalog
that a check needs; it is small (platforms and flags number in the hundreds) and read through a
cache, so that partition sees a read per function instance per cache TTL, not per request.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.engine_control.records import Catalog, Flag, Platform
from puraify.errors import ConflictError
from puraify.store.clients import client
from puraify.store.items import is_condition_failure, query_all, to_item, to_value, unavailable

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
        try:
            self._put("PLATFORM", platform.name, platform.model_dump())
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the platform catalog") from error

    def put_flag(self, flag: Flag) -> None:
        """Store ``flag`` as revision ``flag.revision + 1``, only if the stored one is still ``flag.revision``.

        Every flag write reads the flag first, so of two writers that read the same revision (two runs of the
        scheduled-change pass, or a pass and an admin) one wins and the other gets 409 ``concurrent_change``
        instead of undoing the first (a scheduled change recorded twice, a schedule lost).
        """
        condition = "revision = :seen"
        if not flag.revision:  # new, or stored before flags had revisions
            condition = "attribute_not_exists(revision) OR revision = :seen"
        try:
            self._put(
                "FLAG",
                flag.name,
                {**flag.model_dump(), "revision": flag.revision + 1},
                ConditionExpression=condition,
                ExpressionAttributeValues={":seen": to_value(flag.revision)},
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError(
                    f"flag '{flag.name}' changed concurrently; retry", code="concurrent_change"
                ) from error
            raise unavailable(error, "the platform catalog") from error
        except BotoCoreError as error:
            raise unavailable(error, "the platform catalog") from error

    def _put(self, kind: str, name: str, body: dict[str, Any], **condition: Any) -> None:
        item = to_item({"pk": PARTITION, "sk": f"{kind}#{name}", **body})
        client("dynamodb").put_item(TableName=self.table, Item=item, **condition)

    def _query(self) -> list[dict[str, Any]]:
        return query_all(
            "the platform catalog",
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PARTITION}},
            ConsistentRead=True,
        )
