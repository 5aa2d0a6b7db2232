"""Alert routes, silences and deliveries in memory, with the DynamoDB store's behaviour (``RouteStore``)."""

from __future__ import annotations

import copy
from typing import Any

from puraify import clock
from tests.fakes import stored


class MemoryRouteStore:
    def __init__(self) -> None:
        self.routes: dict[str, dict[str, Any]] = {}
        self.silence_items: dict[str, dict[str, Any]] = {}
        self.delivery_items: dict[tuple[str, str], dict[str, Any]] = {}

    def get_routes(self, project_id: str) -> dict[str, Any] | None:
        found = self.routes.get(project_id)
        return copy.deepcopy(found) if found else None

    def put_routes(self, project_id: str, document: dict[str, Any]) -> None:
        self.routes[project_id] = stored(document)

    def put_silence(self, silence: dict[str, Any]) -> None:
        self.silence_items[silence["silence_id"]] = stored(silence)

    def find_silence(self, silence_id: str) -> dict[str, Any] | None:
        found = self.silence_items.get(silence_id)
        return copy.deepcopy(found) if found and found["expires_at"] > clock.now() else None

    def delete_silence(self, silence_id: str) -> bool:
        if self.find_silence(silence_id) is None:
            return False
        del self.silence_items[silence_id]
        return True

    def silences(self, project_id: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(s)
            for s in sorted(self.silence_items.values(), key=lambda s: s["silence_id"])
            if s["project_id"] == project_id and s["expires_at"] > int(clock.now())
        ]

    def put_deliveries(self, deliveries: list[dict[str, Any]]) -> None:
        for delivery in deliveries:
            self.delivery_items[(delivery["alert_id"], f"{delivery['created_at']}#{delivery['delivery_id']}")] = stored(
                delivery
            )

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(d) for (a, _), d in sorted(self.delivery_items.items()) if a == alert_id]

    def due_deliveries(self, at: float, limit: int = 100) -> list[dict[str, Any]]:
        due = [
            d
            for d in self.delivery_items.values()
            if d.get("next_attempt_at") is not None and d["next_attempt_at"] <= at
        ]
        return [copy.deepcopy(d) for d in sorted(due, key=lambda d: d["next_attempt_at"])[:limit]]

    def claim_delivery(self, delivery: dict[str, Any], until: float) -> bool:
        item = self.delivery_items.get((delivery["alert_id"], f"{delivery['created_at']}#{delivery['delivery_id']}"))
        if item is None or item.get("next_attempt_at") != delivery["next_attempt_at"]:
            return False
        item["next_attempt_at"] = until
        return True

    def update_delivery_record(self, delivery: dict[str, Any]) -> None:
        self.put_deliveries([delivery])
