"""First-run setup: the ``admin`` engine and a starter platform catalog."""

from __future__ import annotations

from typing import Any

from puraify.auth import ADMIN_SCOPE, ALL_PROJECTS, hash_key, new_key
from puraify.clock import iso
from puraify.engine_control.ports import CatalogStore, EngineStore
from puraify.engine_control.records import EngineRecord, Platform
from puraify.errors import ConflictError
from puraify.versions import LATEST

ADMIN_ID = "admin"


def ensure_admin(engines: EngineStore, key: str | None) -> tuple[str | None, bool]:
    """Create engine ``admin`` (the ``admin`` scope, every project) if it does not exist yet.

    An existing ``admin`` is never changed but for its key: its scopes and projects stay what the
    admins made them, so a demotion through the API survives every restart. With ``key`` given,
    that key becomes admin's key (the operator's way back in with the key they hold), whatever
    scopes admin has now; a revoked ``admin`` cannot be revived (ids are never reused), so that is a
    409 ``admin_revoked`` for the caller to report. Without a key, a new one is generated only if
    admin does not exist. Returns the key to show (None if unchanged) and whether admin was created.
    """
    current = engines.get(ADMIN_ID)
    if current is None:
        key = key or new_key()
        at = iso()
        record = EngineRecord(
            engine_id=ADMIN_ID,
            key_hash=hash_key(key),
            scopes=[ADMIN_SCOPE],
            projects=[ALL_PROJECTS],
            description="bootstrap administrator",
            api_version=LATEST,
            created_at=at,
            updated_at=at,
        )
        try:
            engines.create(record)
            return key, True
        except ConflictError:  # another runner created it first: reconcile with what it wrote
            current = engines.get(ADMIN_ID)
            if current is None:
                raise
    if current.status != "active":
        if key is None:
            return None, False
        raise ConflictError(
            "engine 'admin' is revoked, so PURAIFY_ADMIN_KEY cannot authenticate; revoked ids are never reused: "
            "use another engine that holds the 'admin' scope, or a fresh store",
            code="admin_revoked",
        )
    if key is None or current.key_hash == hash_key(key):
        return None, False
    changes = {"key_hash": hash_key(key), "previous_key_hash": None, "previous_key_expires_at": None}
    engines.update(current.model_copy(update={**changes, "updated_at": iso()}), expected_key_hash=current.key_hash)
    return key, False


def seed_catalog(catalog: CatalogStore, platforms: list[dict[str, Any]]) -> int:
    """Add the given platforms unless the catalog already has platforms; returns how many were added."""
    if catalog.load().platforms:
        return 0
    for spec in platforms:
        catalog.put_platform(Platform.model_validate({**spec, "updated_at": iso()}))
    return len(platforms)
