"""First-run setup: the ``admin`` engine and a starter platform catalog."""

from __future__ import annotations

from typing import Any

from puraify.auth import ADMIN_SCOPE, hash_key, new_key
from puraify.clock import iso
from puraify.engine_control.models import EngineRecord, Platform
from puraify.engine_control.service import CatalogStore, EngineStore
from puraify.errors import ConflictError

ADMIN_ID = "admin"


def ensure_admin(engines: EngineStore, key: str | None) -> tuple[str | None, bool]:
    """Make sure engine ``admin`` exists with the ``admin`` scope.

    With ``key`` given, that key is (or becomes) admin's key. Without one, a new key is generated
    only if admin does not exist. Returns the key to show (None if unchanged) and whether admin was created.
    """
    current = engines.get(ADMIN_ID)
    if current is not None and current.status == "active":
        if key is None or current.key_hash == hash_key(key):
            return None, False
        updated = current.model_copy(update={"key_hash": hash_key(key), "scopes": [ADMIN_SCOPE], "updated_at": iso()})
        engines.update(updated, expected_key_hash=current.key_hash)
        return key, False
    key = key or new_key()
    at = iso()
    record = EngineRecord(
        engine_id=ADMIN_ID,
        key_hash=hash_key(key),
        scopes=[ADMIN_SCOPE],
        description="bootstrap administrator",
        created_at=at,
        updated_at=at,
    )
    try:
        engines.create(record)
    except ConflictError:
        return None, False
    return key, True


def seed_catalog(catalog: CatalogStore, platforms: list[dict[str, Any]]) -> int:
    """Add the given platforms unless the catalog already has platforms; returns how many were added."""
    if catalog.load().platforms:
        return 0
    for spec in platforms:
        catalog.put_platform(Platform.model_validate({**spec, "updated_at": iso()}))
    return len(platforms)
