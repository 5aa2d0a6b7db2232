"""Change requests (promotions waiting for approvals) in DynamoDB, beside the environments.

Environments table (``pk``, ``sk``):
- ``CHANGES#<project>`` / ``CHANGE#<change_id>``: one change request (ids sort by creation time).
- ``CHANGES#<project>`` / ``PENDING#<env>``: the environment's pending change (``change_id``,
  ``expires_epoch``), present while one waits. It is what makes a second request a 409: a request
  is one transaction that writes the change and takes this slot if it is free or its change expired.
Every later write of a change is conditional on the ``seq`` it read, and the write that ends it
(applied, denied, rejected, expired, failed) frees the slot in the same transaction, so two racing
approvals cannot both count or both apply.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.environments.errors import ChangeChanged, ChangePending
from puraify.environments.records import ChangeRecord
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, unavailable

_WHAT = "the change request store"
_KEYS = ("pk", "sk")


def _pk(project_id: str) -> str:
    return f"CHANGES#{project_id}"


def _change_key(project_id: str, change_id: str) -> dict[str, Any]:
    return {"pk": _pk(project_id), "sk": f"CHANGE#{change_id}"}


def _slot_key(project_id: str, env: str) -> dict[str, Any]:
    return {"pk": _pk(project_id), "sk": f"PENDING#{env}"}


def _item(record: ChangeRecord) -> dict[str, Any]:
    return to_item({**_change_key(record.project_id, record.change_id), **record.model_dump(mode="json")})


def _record(item: dict[str, Any]) -> ChangeRecord:
    return ChangeRecord.model_validate({k: v for k, v in from_item(item).items() if k not in _KEYS})


class DynamoChangeStore:
    def __init__(self, table: str):
        self.table = table

    def create(self, record: ChangeRecord, at: float) -> None:
        """Store a new pending change and take its environment's slot (409 ``change_pending`` if held)."""
        slot = {**_slot_key(record.project_id, record.environment), "change_id": record.change_id,
                "expires_epoch": record.expires_epoch}  # fmt: skip
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": _item(record),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },  # fmt: skip
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(slot),
                            "ConditionExpression": "attribute_not_exists(pk) OR expires_epoch <= :now",
                            "ExpressionAttributeValues": to_item({":now": at}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if is_condition_failure(error):
                holder = self.pending(record.project_id, record.environment) or "another change"
                raise ChangePending(record.project_id, record.environment, holder) from error
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error

    def get(self, project_id: str, change_id: str) -> ChangeRecord | None:
        reply = self._call("get_item", TableName=self.table, ConsistentRead=True,
                           Key=to_item(_change_key(project_id, change_id)))  # fmt: skip
        return _record(reply["Item"]) if "Item" in reply else None

    def pending(self, project_id: str, env: str) -> str | None:
        """The id of the change holding the environment's slot (it may have expired), or None."""
        reply = self._call("get_item", TableName=self.table, ConsistentRead=True,
                           Key=to_item(_slot_key(project_id, env)))  # fmt: skip
        return str(from_item(reply["Item"])["change_id"]) if "Item" in reply else None

    def replace(self, record: ChangeRecord, expected_seq: int, *, release: bool = False) -> None:
        """Write the change back if its ``seq`` is still ``expected_seq``; ``release``: free its slot too."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _item(record),
                    "ConditionExpression": "seq = :s",
                    "ExpressionAttributeValues": to_item({":s": expected_seq}),
                }
            }
        ]
        if release:
            items.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": to_item(_slot_key(record.project_id, record.environment)),
                        # Only its own slot: an expired change's slot may already hold the next request.
                        "ConditionExpression": "attribute_not_exists(pk) OR change_id = :c",
                        "ExpressionAttributeValues": to_item({":c": record.change_id}),
                    }
                }
            )
        try:
            client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as error:
            if is_condition_failure(error):
                if release and self._seq(record) == expected_seq:
                    # the slot went to the next request after this one expired: write the change alone
                    return self.replace(record, expected_seq)
                raise ChangeChanged(record.change_id) from error
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error

    def page(self, project_id: str, limit: int, before: str | None = None) -> list[ChangeRecord]:
        """The project's changes, newest first, those created before the change ``before``."""
        hi = f"CHANGE#{before}" if before else "CHANGE#~"
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": to_item({":p": _pk(project_id), ":lo": "CHANGE#", ":hi": hi}),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found: list[ChangeRecord] = []
        while len(found) < limit:
            page = self._call("query", **kwargs, Limit=limit + 1)
            found.extend(r for r in (_record(i) for i in page.get("Items", [])) if r.change_id != before)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]

    def _seq(self, record: ChangeRecord) -> int | None:
        current = self.get(record.project_id, record.change_id)
        return current.seq if current else None

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(client("dynamodb"), operation)(**kwargs)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
