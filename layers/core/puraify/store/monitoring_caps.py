"""The alert storm's store: per-minute alert budgets and the update of the ``alert_storm`` alert.

Budgets live in the alerts table: ``pk = CAP#<P#project | E#engine>``, ``sk = <minute>``, ``taken``
(ADDed atomically, so concurrent writers share one budget; an hour's TTL). Mixed into the
DynamoDB and in-memory monitoring stores.
"""

from __future__ import annotations

from puraify import clock
from puraify.store.items import to_item

BUDGET_TTL_SECONDS = 3600


def granted(taken: int, wanted: int, cap: int) -> int:
    """Of ``wanted`` slots just added to a budget now at ``taken``, how many were within ``cap``."""
    return max(0, min(wanted, cap - (taken - wanted)))


class DynamoAlertCaps:
    """For ``DynamoMonitoringStore`` (its ``alerts_table``, ``_call`` and ``_conditional_update``)."""

    alerts_table: str

    def take_alert_slots(self, scope: str, minute: int, wanted: int, cap: int) -> int:
        """Take up to ``wanted`` of ``scope``'s alert budget for ``minute``; returns how many were free."""
        reply = self._call(  # type: ignore[attr-defined]
            "the alert store",
            "update_item",
            TableName=self.alerts_table,
            Key=to_item({"pk": f"CAP#{scope}", "sk": f"{minute:012d}"}),
            UpdateExpression="ADD taken :n SET expires_at = :x",
            ExpressionAttributeValues=to_item({":n": wanted, ":x": minute + BUDGET_TTL_SECONDS}),
            ReturnValues="UPDATED_NEW",
        )
        return granted(int(reply["Attributes"]["taken"]["N"]), wanted, cap)

    def add_to_storm(self, project_id: str, alert_sk: str, held: int, samples: list[str], reporter: str | None) -> bool:
        """Count ``held`` more alerts into the unresolved storm alert; False if it was resolved meanwhile."""
        return self._conditional_update(  # type: ignore[attr-defined]
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item({"pk": f"AL#{project_id}", "sk": alert_sk}),
            UpdateExpression=(
                "SET details.held_back = details.held_back + :n, details.sample_fingerprints = :s, "
                "details.last_reporter = :r, details.last_held_at = :at"
            ),
            ConditionExpression="attribute_exists(pk) AND #s <> :resolved",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":n": held,
                    ":s": samples,
                    ":r": reporter or "-",
                    ":at": clock.iso(clock.now()),
                    ":resolved": "resolved",
                }
            ),
        )
