"""What Engine Control needs from outside itself: the engine records, the catalog, and the check counts.

Implemented by the DynamoDB adapters of ``puraify.store`` (and by the fakes of ``tests/fakes``), each
held to the same behaviour by ``tests/contract``; the wiring (``puraify.wiring``) joins them.
"""

from __future__ import annotations

from typing import Protocol

from puraify.engine_control.records import Catalog, EngineRecord, Flag, Platform


class EngineStore(Protocol):
    def get(self, engine_id: str) -> EngineRecord | None: ...
    def list(self) -> list[EngineRecord]: ...
    def create(self, record: EngineRecord) -> None: ...
    def update(self, record: EngineRecord, expected_key_hash: str, *, keep_admin: str | None = None) -> None: ...


class CatalogStore(Protocol):
    def load(self) -> Catalog: ...
    def put_platform(self, platform: Platform) -> None: ...
    def put_flag(self, flag: Flag) -> None: ...


class CheckCountStore(Protocol):
    def add(self, minute: str, counts: dict[str, int], expires_at: int) -> None: ...
