"""Monitoring's alerts table: alerts, their transitions, fingerprint claims, retries and the flood gate."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify import clock
from puraify.monitoring.ports import HIGH
from puraify.store.clients import client
from puraify.store.items import error_code, from_item, is_condition_failure, to_item, unavailable
from puraify.store.monitoring_tables import (
    UNRESOLVED,
    MonitoringTables,
    alert_key,
    fingerprint_key,
    strip_keys,
    unresolved_keys,
)


class AlertTables(MonitoringTables):
    # --- alerts ------------------------------------------------------------------------------

    def create_alert(self, alert: dict[str, Any]) -> None:
        """Store a new alert and the pointer that finds it by id; unresolved alerts are in ``unresolved``."""
        self._call(
            "the alert store",
            "put_item",
            TableName=self.alerts_table,
            Item=to_item(
                {
                    "pk": f"ID#{alert['alert_id']}",
                    "sk": "ALERT",
                    "project_id": alert["project_id"],
                    "alert_sk": alert_key(alert)["sk"],
                    "expires_at": alert["expires_at"],
                }
            ),
        )
        item = {**strip_keys(alert), **alert_key(alert), **unresolved_keys(alert)}
        if alert.get("next_attempt_at") is not None:
            item["pending"] = "PENDING"
        self._call("the alert store", "put_item", TableName=self.alerts_table, Item=to_item(item))

    def update_delivery(self, alert: dict[str, Any]) -> None:
        """Record a delivery attempt (and when the next one is due), leaving status and severity alone."""
        values: dict[str, Any] = {":d": alert["delivery"]}
        if alert.get("next_attempt_at") is not None:
            expression = "SET delivery = :d, next_attempt_at = :n, pending = :p"
            values.update({":n": alert["next_attempt_at"], ":p": "PENDING"})
        else:
            expression = "SET delivery = :d REMOVE next_attempt_at, pending"
        self._call(
            "the alert store",
            "update_item",
            TableName=self.alerts_table,
            Key=to_item(alert_key(alert)),
            UpdateExpression=expression,
            ExpressionAttributeValues=to_item(values),
        )

    def find_alert(self, alert_id: str) -> dict[str, Any] | None:
        """The alert with this id (through its pointer item), or None."""
        pointer = self._call(
            "the alert store",
            "get_item",
            TableName=self.alerts_table,
            Key=to_item({"pk": f"ID#{alert_id}", "sk": "ALERT"}),
            ConsistentRead=True,
        ).get("Item")
        if not pointer:
            return None
        found = from_item(pointer)
        return self._get_alert(found["project_id"], found["alert_sk"])

    def _get_alert(self, project_id: str, sk: str) -> dict[str, Any] | None:
        item = self._call(
            "the alert store",
            "get_item",
            TableName=self.alerts_table,
            Key=to_item({"pk": f"AL#{project_id}", "sk": sk}),
            ConsistentRead=True,
        ).get("Item")
        return from_item(item) if item else None

    def transition_alert(
        self, alert: dict[str, Any], to: str, allowed_from: tuple[str, ...], step: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Move an alert to ``to`` if its status is still one of ``allowed_from``; None if it is not.

        Resolving an alert raised from a fingerprint also releases the fingerprint (in the same
        transaction), so its next error opens a new alert, marked as a regression.
        """
        values: dict[str, Any] = {":to": to, ":step": [step], ":by": step["by"], ":at": step["at"]}
        allowed = []
        for n, status in enumerate(allowed_from):
            values[f":a{n}"] = status
            allowed.append(f":a{n}")
        expression = f"SET #s = :to, history = list_append(history, :step), {to}_by = :by, {to}_at = :at"
        if to == "resolved":
            expression += " REMOVE unresolved_pk, unresolved_sk"
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.alerts_table,
                    "Key": to_item(alert_key(alert)),
                    "UpdateExpression": expression,
                    "ConditionExpression": f"#s IN ({', '.join(allowed)})",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": to_item(values),
                }
            }
        ]
        if to == "resolved" and alert.get("fingerprint"):
            items.append(
                {
                    "Update": {
                        "TableName": self.alerts_table,
                        "Key": to_item(fingerprint_key(alert["project_id"], alert["fingerprint"])),
                        "UpdateExpression": (
                            "SET resolved_at = :at, expires_at = :x REMOVE alert_sk, alert_id, severity"
                        ),
                        "ExpressionAttributeValues": to_item({":at": step["at"], ":x": alert["expires_at"]}),
                    }
                }
            )
        try:
            client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or [{}]
            if (
                error_code(error) == "TransactionCanceledException"
                and reasons[0].get("Code") == "ConditionalCheckFailed"
            ):
                return None
            raise unavailable(error, "the alert store") from error
        except BotoCoreError as error:
            raise unavailable(error, "the alert store") from error
        return self._get_alert(alert["project_id"], alert_key(alert)["sk"])

    def escalate_alert(
        self, alert_sk: str, project_id: str, severity: str, step: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Raise an unresolved alert's severity (recorded in its history); None if resolved or already there."""
        try:
            reply = client("dynamodb").update_item(
                TableName=self.alerts_table,
                Key=to_item({"pk": f"AL#{project_id}", "sk": alert_sk}),
                UpdateExpression="SET severity = :sev, message = :m, history = list_append(history, :step)",
                ConditionExpression="attribute_exists(pk) AND #s <> :resolved AND severity <> :sev",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item(
                    {":sev": severity, ":m": step["reason"], ":step": [step], ":resolved": "resolved"}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise unavailable(error, "the alert store") from error
        except BotoCoreError as error:
            raise unavailable(error, "the alert store") from error
        return from_item(reply["Attributes"])

    def list_alerts(
        self, project_id: str, *, status: str | None, severity: str | None, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """A project's unexpired alerts, newest first, created before the ``before`` key (a cursor)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":p": f"AL#{project_id}", ":hi": before or HIGH, ":now": int(clock.now())}
        conditions = ["expires_at > :now"]
        if status:
            names["#s"] = "status"
            values[":st"] = "resolved" if status == "unresolved" else status
            conditions.append("#s <> :st" if status == "unresolved" else "#s = :st")
        if severity:
            values[":sev"] = severity
            conditions.append("severity = :sev")
        kwargs: dict[str, Any] = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p AND sk < :hi",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        return self._query_until(kwargs, limit, "the alert store")

    def count_unresolved(self, project_id: str, severity: str) -> int:
        """How many unexpired alerts of ``severity`` are not resolved (a consistent read of the project)."""
        kwargs: dict[str, Any] = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p",
            "FilterExpression": "expires_at > :now AND severity = :sev AND #s <> :resolved",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item(
                {":p": f"AL#{project_id}", ":now": int(clock.now()), ":sev": severity, ":resolved": "resolved"}
            ),
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        total = 0
        while True:
            page = self._call("the alert store", "query", **kwargs)
            total += page.get("Count", 0)
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def unresolved_fingerprint_alerts(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Every project's unresolved alerts raised from an error fingerprint (the auto-resolve pass)."""
        kwargs = {
            "TableName": self.alerts_table,
            "IndexName": "unresolved",
            "KeyConditionExpression": "unresolved_pk = :u",
            "FilterExpression": "attribute_exists(fingerprint)",
            "ExpressionAttributeValues": to_item({":u": UNRESOLVED}),
        }
        items, _ = self._query_until(kwargs, limit, "the alert store")
        return items

    def fingerprint_states(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """``(project, fingerprint)`` -> its alert state: the unresolved alert (``alert_sk``) and ``resolved_at``."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for i in range(0, len(wanted), 100):
            request = {
                self.alerts_table: {
                    "Keys": [to_item(fingerprint_key(p, f)) for p, f in wanted[i : i + 100]],
                    "ConsistentRead": True,
                }
            }
            for item in self._batch_get(request, self.alerts_table, "the alert store"):
                found[(item["pk"][3:], item["sk"])] = item
        return found

    def claim_fingerprint(self, project_id: str, fingerprint: str, alert: dict[str, Any]) -> bool:
        """Make ``alert`` the fingerprint's one unresolved alert, unless another writer's already is."""
        return self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item(fingerprint_key(project_id, fingerprint)),
            UpdateExpression="SET alert_sk = :sk, alert_id = :id, severity = :sev, expires_at = :x",
            ConditionExpression="attribute_not_exists(alert_sk)",
            ExpressionAttributeValues=to_item(
                {
                    ":sk": alert_key(alert)["sk"],
                    ":id": alert["alert_id"],
                    ":sev": alert["severity"],
                    ":x": alert["expires_at"],
                }
            ),  # fmt: skip
        )

    def claim_escalation(self, project_id: str, fingerprint: str, alert_sk: str, severity: str) -> bool:
        """Take the escalation of the fingerprint's unresolved alert to ``severity`` (one writer wins)."""
        return self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item(fingerprint_key(project_id, fingerprint)),
            UpdateExpression="SET severity = :sev",
            ConditionExpression="alert_sk = :sk AND severity <> :sev",
            ExpressionAttributeValues=to_item({":sk": alert_sk, ":sev": severity}),
        )

    def claim_retry(self, alert: dict[str, Any], until: float) -> bool:
        """Take a due alert for one delivery attempt: moves its ``next_attempt_at`` to ``until`` only if
        nobody else did since it was read, so overlapping retry runs do not both send it."""
        return self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=to_item(alert_key(alert)),
            UpdateExpression="SET next_attempt_at = :until",
            ConditionExpression="next_attempt_at = :seen",
            ExpressionAttributeValues=to_item({":until": until, ":seen": alert["next_attempt_at"]}),
        )

    def alerts(self, project_id: str, since: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        """The project's unexpired alerts created at or after ``since``, oldest first."""
        kwargs = {
            "TableName": self.alerts_table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": to_item(
                {":p": f"AL#{project_id}", ":lo": since or " ", ":hi": HIGH, ":now": int(clock.now())}
            ),
        }
        items, _ = self._query_until(kwargs, limit, "the alert store")
        return items

    def due_alerts(self, at: float, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts whose delivery retry is due at ``at``, most overdue first."""
        kwargs = {
            "TableName": self.alerts_table,
            "IndexName": "pending",
            "KeyConditionExpression": "pending = :p AND next_attempt_at <= :at",
            "ExpressionAttributeValues": to_item({":p": "PENDING", ":at": at}),
        }
        items, _ = self._query_until(kwargs, limit, "the alert store")
        return items

    def pass_gate(self, project_id: str, key: str, at: float, window: float, expires_at: int) -> tuple[bool, int]:
        """Flood control: whether a notification for ``key`` may go out now, and how many were held back.

        Every attempt is counted first; the one that finds the window elapsed claims it with a
        conditional write (so of two racing attempts exactly one wins) and takes the count.
        """
        item_key = to_item({"pk": f"GATE#{project_id}", "sk": key})
        reply = self._call(
            "the alert store",
            "update_item",
            TableName=self.alerts_table,
            Key=item_key,
            UpdateExpression="ADD suppressed :one SET expires_at = :x",
            ExpressionAttributeValues=to_item({":one": 1, ":x": expires_at}),
            ReturnValues="ALL_NEW",
        )
        state = from_item(reply["Attributes"])
        last = state.get("last_notified_at")
        if last is not None and last > at - window:
            return False, 0
        seen = int(state["suppressed"])
        condition = "attribute_not_exists(last_notified_at)" if last is None else "last_notified_at = :last"
        values: dict[str, Any] = {":at": at, ":seen": seen}
        if last is not None:
            values[":last"] = last
        claimed = self._conditional_update(
            "the alert store",
            TableName=self.alerts_table,
            Key=item_key,
            UpdateExpression="SET last_notified_at = :at, suppressed = suppressed - :seen",
            ConditionExpression=condition,
            ExpressionAttributeValues=to_item(values),
        )
        return (True, seen - 1) if claimed else (False, 0)
