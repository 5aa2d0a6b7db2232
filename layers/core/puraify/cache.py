"""A small time-bounded cache: how long a revocation or catalog change may take to be seen."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TtlCache[K, V]:
    """Values expire ``ttl`` seconds after they were loaded; a negative result may use ``negative_ttl``."""

    def __init__(self, ttl: float, negative_ttl: float | None = None, max_entries: int = 10_000):
        self.ttl = ttl
        self.negative_ttl = ttl if negative_ttl is None else negative_ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[K], V]) -> V:
        """The cached value for ``key``, or ``load(key)`` (cached) when absent or expired."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load(key)
        ttl = self.ttl if value is not None else self.negative_ttl
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + ttl, value)
        return value

    def peek(self, key: K) -> V | None:
        """The cached, unexpired value for ``key``, or None; never loads."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def invalidate(self, key: K | None = None) -> None:
        """Forget one key, or everything."""
        with self._lock:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
