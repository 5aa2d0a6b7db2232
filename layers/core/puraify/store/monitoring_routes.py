"""Alert routes, silences and deliveries in the alerts table (``monitoring.ports.RouteStore``).

``pk = RT#<project>``: ``sk = ROUTES`` is the project's routes document (secrets only by reference),
``sk = SILENCE#<id>`` one silence; ``pk = SILENCE#<id>, sk = SILENCE`` finds a silence's project by id.
``pk = DLV#<alert_id>``, ``sk = <created_at>#<delivery_id>``: one delivery of an alert event to a
channel; while it is owed it carries ``pending = DELIVERY`` and ``next_attempt_at`` (the sparse
index ``pending``, shared with undelivered alerts under ``PENDING``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, query_all, to_item, unavailable

_WHAT = "the alert route store"
OWED = "DELIVERY"


def _call(operation: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return getattr(client("dynamodb"), operation)(**kwargs)
    except (BotoCoreError, ClientError) as error:
        raise unavailable(error, _WHAT) from error


def _delivery_key(delivery: dict[str, Any]) -> dict[str, str]:
    return {"pk": f"DLV#{delivery['alert_id']}", "sk": f"{delivery['created_at']}#{delivery['delivery_id']}"}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "pending")}


class DynamoRouteStore:
    def __init__(self, alerts_table: str):
        self.table = alerts_table

    # --- routes ------------------------------------------------------------------------------

    def get_routes(self, project_id: str) -> dict[str, Any] | None:
        """The project's routes document, or None before the first save."""
        item = _call(
            "get_item",
            TableName=self.table,
            Key=to_item({"pk": f"RT#{project_id}", "sk": "ROUTES"}),
            ConsistentRead=True,
        ).get("Item")
        return _plain(from_item(item)) if item else None

    def put_routes(self, project_id: str, document: dict[str, Any]) -> None:
        """Replace the project's routes document."""
        _call("put_item", TableName=self.table, Item=to_item({**document, "pk": f"RT#{project_id}", "sk": "ROUTES"}))

    # --- silences ----------------------------------------------------------------------------

    def put_silence(self, silence: dict[str, Any]) -> None:
        """Store a silence and the pointer that finds it by id (one transaction)."""
        key = {"pk": f"RT#{silence['project_id']}", "sk": f"SILENCE#{silence['silence_id']}"}
        pointer = {"pk": f"SILENCE#{silence['silence_id']}", "sk": "SILENCE", "project_id": silence["project_id"],
                   "expires_at": silence["expires_at"]}  # fmt: skip
        _call(
            "transact_write_items",
            TransactItems=[
                {"Put": {"TableName": self.table, "Item": to_item({**silence, **key})}},
                {"Put": {"TableName": self.table, "Item": to_item(pointer)}},
            ],
        )

    def find_silence(self, silence_id: str) -> dict[str, Any] | None:
        """The silence with this id (unexpired), or None."""
        pointer = _call(
            "get_item", TableName=self.table, Key=to_item({"pk": f"SILENCE#{silence_id}", "sk": "SILENCE"}),
            ConsistentRead=True,
        ).get("Item")  # fmt: skip
        if not pointer:
            return None
        project_id = from_item(pointer)["project_id"]
        item = _call(
            "get_item", TableName=self.table, ConsistentRead=True,
            Key=to_item({"pk": f"RT#{project_id}", "sk": f"SILENCE#{silence_id}"}),
        ).get("Item")  # fmt: skip
        found = _plain(from_item(item)) if item else None
        return found if found and found["expires_at"] > clock.now() else None

    def delete_silence(self, silence_id: str) -> bool:
        """Delete a silence and its pointer; False if it did not exist."""
        found = self.find_silence(silence_id)
        if found is None:
            return False
        _call(
            "transact_write_items",
            TransactItems=[
                {"Delete": {"TableName": self.table,
                            "Key": to_item({"pk": f"RT#{found['project_id']}", "sk": f"SILENCE#{silence_id}"})}},
                {"Delete": {"TableName": self.table, "Key": to_item({"pk": f"SILENCE#{silence_id}", "sk": "SILENCE"})}},
            ],
        )  # fmt: skip
        return True

    def silences(self, project_id: str) -> list[dict[str, Any]]:
        """The project's unexpired silences (ended ones too, until they expire)."""
        items = query_all(
            _WHAT,
            TableName=self.table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            FilterExpression="expires_at > :now",
            ExpressionAttributeValues=to_item({":p": f"RT#{project_id}", ":s": "SILENCE#", ":now": int(clock.now())}),
            ConsistentRead=True,
        )
        return [_plain(i) for i in items]

    # --- deliveries --------------------------------------------------------------------------

    def _delivery_item(self, delivery: dict[str, Any]) -> dict[str, Any]:
        item = {**delivery, **_delivery_key(delivery)}
        if delivery.get("next_attempt_at") is not None:
            item["pending"] = OWED
        return to_item(item)

    def put_deliveries(self, deliveries: list[dict[str, Any]]) -> None:
        """Store new deliveries."""
        for delivery in deliveries:
            _call("put_item", TableName=self.table, Item=self._delivery_item(delivery))

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        """An alert's deliveries, oldest first."""
        items = query_all(
            _WHAT,
            TableName=self.table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=to_item({":p": f"DLV#{alert_id}"}),
            ConsistentRead=True,
        )
        return [_plain(i) for i in items]

    def due_deliveries(self, at: float, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries owed at ``at``, most overdue first."""
        items = query_all(
            _WHAT,
            limit,
            TableName=self.table,
            IndexName="pending",
            KeyConditionExpression="pending = :p AND next_attempt_at <= :at",
            ExpressionAttributeValues=to_item({":p": OWED, ":at": at}),
        )
        return [_plain(i) for i in items]

    def claim_delivery(self, delivery: dict[str, Any], until: float) -> bool:
        """Take a due delivery for one attempt: moves ``next_attempt_at`` to ``until`` only if nobody
        else did since it was read."""
        try:
            client("dynamodb").update_item(
                TableName=self.table,
                Key=to_item(_delivery_key(delivery)),
                UpdateExpression="SET next_attempt_at = :until",
                ConditionExpression="next_attempt_at = :seen",
                ExpressionAttributeValues=to_item({":until": until, ":seen": delivery["next_attempt_at"]}),
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error
        return True

    def update_delivery_record(self, delivery: dict[str, Any]) -> None:
        """Record an attempt (and when the next is due) of a delivery this process claimed."""
        _call("put_item", TableName=self.table, Item=self._delivery_item(delivery))
