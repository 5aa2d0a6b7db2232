"""Engine identities in the engines table (partition key ``engine_id``)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from puraify.engine_control.models import EngineRecord
from puraify.errors import ConflictError, NotFoundError
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, to_value, unavailable


class DynamoEngineStore:
    def __init__(self, table: str):
        self.table = table

    def get(self, engine_id: str) -> EngineRecord | None:
        """The engine's record, or None. Strongly consistent: auth must see revocations."""
        try:
            found = client("dynamodb").get_item(
                TableName=self.table, Key={"engine_id": {"S": engine_id}}, ConsistentRead=True
            )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the engine registry") from error
        item = found.get("Item")
        return EngineRecord.model_validate(from_item(item)) if item else None

    def list(self) -> list[EngineRecord]:
        """Every engine record (the registry is small: one Scan, pages followed)."""
        records: list[EngineRecord] = []
        kwargs: dict = {"TableName": self.table, "ConsistentRead": True}
        try:
            while True:
                page = client("dynamodb").scan(**kwargs)
                records.extend(EngineRecord.model_validate(from_item(i)) for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return records
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the engine registry") from error

    def create(self, record: EngineRecord) -> None:
        """Store a new engine; 409 if the id exists (also when revoked: ids are never reused)."""
        try:
            client("dynamodb").put_item(
                TableName=self.table,
                Item=to_item(record.model_dump()),
                ConditionExpression="attribute_not_exists(engine_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError(f"engine '{record.engine_id}' already exists", code="engine_exists") from error
            raise unavailable(error, "the engine registry") from error
        except BotoCoreError as error:
            raise unavailable(error, "the engine registry") from error

    def update(self, record: EngineRecord, expected_key_hash: str) -> None:
        """Replace an active engine's record, if its key is still ``expected_key_hash``.

        The condition serializes rotations and revocations: of two racing changes one wins,
        the other gets 409 instead of silently undoing the first.
        """
        try:
            client("dynamodb").put_item(
                TableName=self.table,
                Item=to_item(record.model_dump()),
                ConditionExpression="attribute_exists(engine_id) AND key_hash = :expected AND #s = :active",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":expected": to_value(expected_key_hash), ":active": to_value("active")},
            )
        except ClientError as error:
            if is_condition_failure(error):
                current = self.get(record.engine_id)
                if current is None or current.status != "active":
                    raise NotFoundError(f"engine '{record.engine_id}' not found", code="engine_not_found") from error
                raise ConflictError(
                    f"engine '{record.engine_id}' changed concurrently; retry", code="concurrent_change"
                ) from error
            raise unavailable(error, "the engine registry") from error
        except BotoCoreError as error:
            raise unavailable(error, "the engine registry") from error
