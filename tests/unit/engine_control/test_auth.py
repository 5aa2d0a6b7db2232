"""Keys, hashing, the grace period and the cache that bounds revocation time."""

from __future__ import annotations

import time

import pytest

from puraify.auth import Authenticator, hash_key, key_matches, new_key
from puraify.cache import TtlCache
from puraify.engine_control.records import EngineRecord
from puraify.errors import ForbiddenError, UnauthorizedError


def record(key: str, **changes) -> EngineRecord:
    base = EngineRecord(engine_id="e1", key_hash=hash_key(key), scopes=["logs:read"], created_at="t", updated_at="t")
    return base.model_copy(update=changes)


def test_keys_are_random_256_bit_and_distinct():
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("pfk_") and len(k) == 4 + 43 for k in keys)


def test_previous_key_works_only_until_its_expiry():
    old, new = new_key(), new_key()
    rec = record(new, previous_key_hash=hash_key(old), previous_key_expires_at=100.0)
    assert key_matches(rec, new, 1e12)
    assert key_matches(rec, old, 99.0)
    assert not key_matches(rec, old, 100.0)


def test_unknown_revoked_and_wrong_key_raise_the_same_401():
    key = new_key()
    store = {"e1": record(key), "gone": record(key, engine_id="gone", status="revoked")}
    auth = Authenticator(store.get, TtlCache(30))
    messages = set()
    for engine_id, presented in (("ghost", key), ("gone", key), ("e1", "pfk_wrong"), ("e1", None), (None, key)):
        with pytest.raises(UnauthorizedError) as raised:
            auth.authenticate(engine_id, presented)
        messages.add(raised.value.message)
    assert len(messages) == 1
    principal = auth.authenticate("e1", key)
    assert principal.engine_id == "e1" and principal.has_scope("logs:read") and not principal.is_admin
    with pytest.raises(ForbiddenError):
        principal.require("admin")


def test_cache_bounds_how_long_a_revocation_takes():
    key = new_key()
    store = {"e1": record(key)}
    loads = []

    def load(engine_id):
        loads.append(engine_id)
        return store.get(engine_id)

    auth = Authenticator(load, TtlCache(0.2))
    auth.authenticate("e1", key)
    store["e1"] = record(key, status="revoked")
    auth.authenticate("e1", key)  # still cached: within the TTL
    time.sleep(0.25)
    with pytest.raises(UnauthorizedError):
        auth.authenticate("e1", key)
    assert loads == ["e1", "e1"]


def test_unknown_engines_are_cached_for_the_shorter_negative_ttl():
    cache: TtlCache[str, object] = TtlCache(30, negative_ttl=0.05)
    assert cache.get("x", lambda _: None) is None
    time.sleep(0.06)
    assert cache.get("x", lambda _: "found") == "found"
