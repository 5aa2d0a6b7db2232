"""Deployments in DynamoDB (``DeploymentsTable``), and their in-memory twin.

- ``pk = PROJECT#<project>``, ``sk = <env>#<created_at>#<deployment_id>``: one environment's deployments
  are one prefix in time order (its latest is one Query, newest first, ``Limit 1``).
- index ``by_time`` (``pk``, ``ts = <created_at>#<deployment_id>``): a project's deployments in time order.
- sparse index ``baking`` (``baking_pk = BAKING``, ``bake_ends_epoch``): only deployments being baked,
  which is what each tick of the watch reads, without a scan.
``expires_at`` is the TTL (``DeploymentRetentionDays``); reads filter it (emulators never expire items).
Every update of a baking deployment is conditional on the ``checks`` counter it read, so two
overlapping ticks (or a tick and a manual change) cannot both act on it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.environments.errors import DeploymentChanged
from puraify.environments.records import DeploymentRecord
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, unavailable

_WHAT = "the deployment store"
_KEYS = ("pk", "sk", "ts", "baking_pk", "bake_ends_epoch")


def _item(record: DeploymentRecord) -> dict[str, Any]:
    item = {
        "pk": f"PROJECT#{record.project_id}",
        "sk": record.key,
        "ts": f"{record.created_at}#{record.deployment_id}",
        **record.model_dump(mode="json", exclude_none=True),
    }
    if record.state == "baking":
        item.update(baking_pk="BAKING", bake_ends_epoch=int(record.started_epoch + (record.bake_seconds or 0)))
    return item


def _record(item: dict[str, Any]) -> DeploymentRecord:
    return DeploymentRecord.model_validate({k: v for k, v in from_item(item).items() if k not in _KEYS})


class DynamoDeploymentStore:
    def __init__(self, table: str):
        self.table = table

    def put(self, record: DeploymentRecord) -> None:
        """Store a new deployment (its id is fresh: never overwrites)."""
        self._call("put_item", TableName=self.table, Item=to_item(_item(record)),
                   ConditionExpression="attribute_not_exists(pk)")  # fmt: skip

    def replace(self, record: DeploymentRecord, expected_checks: int) -> None:
        """Write a deployment back if nobody changed it since it was read at ``expected_checks``."""
        try:
            client("dynamodb").put_item(
                TableName=self.table,
                Item=to_item(_item(record)),
                ConditionExpression="checks = :c",
                ExpressionAttributeValues=to_item({":c": expected_checks}),
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise DeploymentChanged(record.deployment_id) from error
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error

    def delete(self, record: DeploymentRecord) -> None:
        """Remove a deployment whose change was never committed."""
        self._call("delete_item", TableName=self.table,
                   Key=to_item({"pk": f"PROJECT#{record.project_id}", "sk": record.key}))  # fmt: skip

    def get(self, project_id: str, key: str) -> DeploymentRecord | None:
        """One deployment by its key, read consistently."""
        reply = self._call("get_item", TableName=self.table, ConsistentRead=True,
                           Key=to_item({"pk": f"PROJECT#{project_id}", "sk": key}))  # fmt: skip
        return _record(reply["Item"]) if "Item" in reply else None

    def latest(self, project_id: str, environment: str) -> DeploymentRecord | None:
        """The environment's newest unexpired deployment."""
        found = self._query(
            {
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :e)",
                "ExpressionAttributeValues": to_item(
                    {":p": f"PROJECT#{project_id}", ":e": f"{environment}#", ":now": int(clock.now())}
                ),
                "ScanIndexForward": False,
                "ConsistentRead": True,
            },
            limit=1,
        )
        return found[0] if found else None

    def recent(
        self, project_id: str, environment: str | None = None, since: str = "", limit: int = 100
    ) -> list[DeploymentRecord]:
        """The project's (or one environment's) deployments created at or after ``since``, newest first."""
        values = {":p": f"PROJECT#{project_id}", ":lo": f"{since or ' '}", ":hi": "~", ":now": int(clock.now())}
        if environment:
            values.update({":lo": f"{environment}#{since or ' '}", ":hi": f"{environment}#~"})
            args: dict[str, Any] = {"KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi"}
        else:
            args = {"IndexName": "by_time", "KeyConditionExpression": "pk = :p AND ts BETWEEN :lo AND :hi"}
        return self._query({**args, "ExpressionAttributeValues": to_item(values), "ScanIndexForward": False}, limit)

    def baking(self, limit: int = 100) -> list[DeploymentRecord]:
        """Deployments being baked, the earliest due first (the sparse ``baking`` index)."""
        return self._query(
            {
                "IndexName": "baking",
                "KeyConditionExpression": "baking_pk = :b",
                "ExpressionAttributeValues": to_item({":b": "BAKING", ":now": int(clock.now())}),
            },
            limit,
        )

    def _query(self, args: dict[str, Any], limit: int) -> list[DeploymentRecord]:
        kwargs = {"TableName": self.table, "FilterExpression": "expires_at > :now", **args}
        found: list[DeploymentRecord] = []
        while len(found) < limit:
            page = self._call("query", **kwargs)
            found.extend(_record(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(client("dynamodb"), operation)(**kwargs)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
