"""Engine identities in the engines table (partition key ``engine_id``)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from puraify.auth import ADMIN_SCOPE
from puraify.engine_control.records import EngineRecord
from puraify.errors import ConflictError, NotFoundError, PuraifyError
from puraify.observability import logger
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, to_value, unavailable

ExpiringKeys = list[tuple[str, float]]  # (engine_id, key_expires_at); named here: the class has a ``list``


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

    def expiring_keys(self, before: float, max_pages: int = 10) -> ExpiringKeys:
        """``(engine_id, key_expires_at)`` of each active engine whose key expires before ``before``.

        One Scan of the registry filtered in DynamoDB, projecting two attributes, pages followed up to
        ``max_pages`` (1 MB each, about a thousand engines a page); past that the rest waits for the next
        pass, with a warning."""
        kwargs: dict = {
            "TableName": self.table,
            "FilterExpression": "#s = :active AND key_expires_at < :before",
            "ProjectionExpression": "engine_id, key_expires_at",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":active": to_value("active"), ":before": to_value(before)},
        }
        found: ExpiringKeys = []
        try:
            for _ in range(max_pages):
                page = client("dynamodb").scan(**kwargs)
                found.extend(
                    (i["engine_id"], float(i["key_expires_at"])) for i in map(from_item, page.get("Items", []))
                )
                if "LastEvaluatedKey" not in page:
                    return found
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the engine registry") from error
        logger.warning("expiring keys: the registry has more pages than one pass reads", extra={"pages": max_pages})
        return found

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

    def update(self, record: EngineRecord, expected_key_hash: str, *, keep_admin: str | None = None) -> None:
        """Replace an active engine's record, if its key is still ``expected_key_hash``.

        The condition serializes rotations and revocations: of two racing changes one wins,
        the other gets 409 instead of silently undoing the first. With ``keep_admin`` the write is
        one transaction with a check that engine ``keep_admin`` is still an active, unsuspended admin (409
        ``last_admin`` otherwise), so two admins revoking each other at once cannot both succeed.
        """
        put = {
            "TableName": self.table,
            "Item": to_item(record.model_dump()),
            "ConditionExpression": "attribute_exists(engine_id) AND key_hash = :expected AND #s = :active",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":expected": to_value(expected_key_hash), ":active": to_value("active")},
        }
        try:
            if keep_admin is None:
                client("dynamodb").put_item(**put)
                return
            check = {
                "TableName": self.table,
                "Key": {"engine_id": to_value(keep_admin)},
                "ConditionExpression": "#s = :active AND contains(scopes, :admin) AND attribute_not_exists(suspended)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":active": to_value("active"), ":admin": to_value(ADMIN_SCOPE)},
            }
            client("dynamodb").transact_write_items(TransactItems=[{"Put": put}, {"ConditionCheck": check}])
        except ClientError as error:
            if is_condition_failure(error):
                raise self._why_not(record.engine_id, expected_key_hash, keep_admin) from error
            raise unavailable(error, "the engine registry") from error
        except BotoCoreError as error:
            raise unavailable(error, "the engine registry") from error

    def _why_not(self, engine_id: str, expected_key_hash: str, keep_admin: str | None) -> PuraifyError:
        current = self.get(engine_id)
        if current is None or current.status != "active":
            return NotFoundError(f"engine '{engine_id}' not found", code="engine_not_found")
        if current.key_hash == expected_key_hash and keep_admin is not None:
            other = self.get(keep_admin)
            if other is None or other.status != "active" or ADMIN_SCOPE not in other.scopes or other.suspended:
                return ConflictError(f"engine '{keep_admin}' is no longer an active admin", code="last_admin")
        return ConflictError(f"engine '{engine_id}' changed concurrently; retry", code="concurrent_change")
