"""Grant changes waiting for a second admin, in the catalog table beside (not in) the catalog.

``pk = "GRANT_CHANGES"``, ``sk = "CHANGE#<change_id>"`` (ids sort by creation time): the catalog's own
Query reads only ``pk = "CATALOG"``. Every write after the first is conditional on the ``seq`` it read.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.engine_control.records import GrantChangeRecord
from puraify.errors import ConflictError
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, unavailable

PARTITION = "GRANT_CHANGES"
_WHAT = "the grant change store"


def _key(change_id: str) -> dict[str, Any]:
    return {"pk": PARTITION, "sk": f"CHANGE#{change_id}"}


def _record(item: dict[str, Any]) -> GrantChangeRecord:
    return GrantChangeRecord.model_validate({k: v for k, v in from_item(item).items() if k not in ("pk", "sk")})


def changed(change_id: str) -> ConflictError:
    return ConflictError(f"grant change {change_id} changed concurrently; re-read it and retry", code="change_changed")


class DynamoGrantChangeStore:
    def __init__(self, table: str):
        self.table = table

    def create(self, record: GrantChangeRecord) -> None:
        self._put(record, "attribute_not_exists(pk)", {})

    def get(self, change_id: str) -> GrantChangeRecord | None:
        try:
            reply = client("dynamodb").get_item(TableName=self.table, Key=to_item(_key(change_id)), ConsistentRead=True)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        return _record(reply["Item"]) if "Item" in reply else None

    def replace(self, record: GrantChangeRecord, expected_seq: int) -> None:
        self._put(record, "seq = :s", {":s": expected_seq})

    def page(self, limit: int, before: str | None = None) -> list[GrantChangeRecord]:
        """Newest first, those created before the change ``before``."""
        hi = f"CHANGE#{before}" if before else "CHANGE#~"
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": to_item({":p": PARTITION, ":lo": "CHANGE#", ":hi": hi}),
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        found: list[GrantChangeRecord] = []
        try:
            while len(found) < limit:
                page = client("dynamodb").query(**kwargs)
                found.extend(r for r in (_record(i) for i in page.get("Items", [])) if r.change_id != before)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        return found[:limit]

    def _put(self, record: GrantChangeRecord, condition: str, values: dict[str, Any]) -> None:
        args: dict[str, Any] = {
            "TableName": self.table,
            "Item": to_item({**_key(record.change_id), **record.model_dump(mode="json")}),
            "ConditionExpression": condition,
        }
        if values:
            args["ExpressionAttributeValues"] = to_item(values)
        try:
            client("dynamodb").put_item(**args)
        except ClientError as error:
            if is_condition_failure(error):
                raise changed(record.change_id) from error
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error
