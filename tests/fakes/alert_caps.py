"""The alert storm's budgets in memory (the twin of ``store.monitoring_caps``)."""

from __future__ import annotations

import threading
from typing import Any

from puraify import clock
from puraify.store.monitoring_caps import granted


class MemoryAlertCaps:
    """The same for ``MemoryMonitoringStore`` (its ``alert_items``)."""

    alert_items: dict[tuple[str, str], dict[str, Any]]

    def __init__(self) -> None:
        self.budgets: dict[tuple[str, int], int] = {}
        self._budget_lock = threading.Lock()

    def take_alert_slots(self, scope: str, minute: int, wanted: int, cap: int) -> int:
        with self._budget_lock:
            taken = self.budgets[(scope, minute)] = self.budgets.get((scope, minute), 0) + wanted
        return granted(taken, wanted, cap)

    def add_to_storm(self, project_id: str, alert_sk: str, held: int, samples: list[str], reporter: str | None) -> bool:
        stored = self.alert_items.get((project_id, alert_sk))
        if stored is None or stored["status"] == "resolved":
            return False
        details = stored["details"]
        details.update(held_back=details["held_back"] + held, sample_fingerprints=list(samples))
        details.update(last_reporter=reporter, last_held_at=clock.iso(clock.now()))
        return True
