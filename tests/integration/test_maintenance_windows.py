"""Scheduled maintenance windows: routes, the check's exact boundaries from the cached catalog, the planning fact."""

from __future__ import annotations

import json

import pytest

from puraify.clock import iso, now

ADMIN = "admin"


@pytest.fixture
def seeded(aws, admin_key, invoke):
    """The starter catalog plus engine ``action`` (gmail send_email); the admin's credentials."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    admin = (ADMIN, admin_key)
    reply = invoke("register/register", engine=admin)
    assert reply.status == 201, reply.body
    return admin, ("action", reply.body["engine_key"])


def _window(invoke, admin, starts: float, ends: float, reason: str = "Gmail API migration"):
    body = {"starts_at": iso(starts), "ends_at": iso(ends), "reason": reason}
    return invoke("config/add_maintenance_window", engine=admin, body=body, path_params={"name": "gmail"})


def test_a_window_denies_from_its_first_second_to_its_last_without_a_cache_refresh(seeded, invoke, monkeypatch):
    from puraify import wiring
    from puraify.engine_control import checks

    admin, engine = seeded
    starts, ends = float(int(now()) + 3600), float(int(now()) + 7200)
    added = _window(invoke, admin, starts, ends)
    assert added.status == 201, added.body
    assert added.body["window_id"] and added.body["active"] is False
    # The check's process has the catalog (with the window) cached; count any reload from here on.
    assert invoke("check/check", engine=engine).body["allowed"] is True
    store = wiring.current().engine_control.catalog_store
    loads = []
    real_load = store.load
    monkeypatch.setattr(store, "load", lambda: loads.append(1) or real_load())

    def check_at(at: float) -> dict:
        monkeypatch.setattr(checks, "now", lambda: at)
        return invoke("check/check", engine=engine).body

    assert check_at(starts - 0.001)["allowed"] is True
    first = check_at(starts)
    assert (first["allowed"], first["rule"]) == (False, "platform_maintenance")
    assert "Gmail API migration" in first["reason"] and iso(ends) in first["reason"]
    assert check_at(ends - 0.001)["allowed"] is False
    assert check_at(ends)["allowed"] is True
    assert loads == []  # decided from the cached catalog each time


def test_windows_are_listed_shown_on_the_platform_list_and_cancelled(seeded, invoke):
    admin, engine = seeded
    current = _window(invoke, admin, now() - 60, now() + 600, "now").body
    later = _window(invoke, admin, now() + 3600, now() + 7200, "later").body
    listed = invoke("config/list_maintenance_windows", engine=admin, path_params={"name": "gmail"}).body
    assert [w["window_id"] for w in listed["windows"]] == [current["window_id"], later["window_id"]]
    assert listed["max_windows"] == 20
    platforms = invoke("config/list_platforms", engine=admin).body
    gmail = next(p for p in platforms["platforms"] if p["name"] == "gmail")
    assert gmail["maintenance"]["current"]["reason"] == "now" and gmail["maintenance"]["next"]["reason"] == "later"
    assert platforms["max_windows"] == 20
    denied = invoke("check/check", engine=engine).body
    assert (denied["allowed"], denied["rule"]) == (False, "platform_maintenance")
    # When: the current window is cancelled
    path = {"name": "gmail", "window_id": current["window_id"]}
    assert invoke("config/delete_maintenance_window", engine=admin, path_params=path).status == 200
    # Then
    assert invoke("check/check", engine=engine).body["allowed"] is True
    assert invoke("config/delete_maintenance_window", engine=admin, path_params=path).status == 404


def test_windows_need_admin_valid_times_and_a_known_platform_and_are_bounded(seeded, invoke):
    admin, engine = seeded
    assert _window(invoke, engine, now() + 60, now() + 120).status == 403
    backwards = _window(invoke, admin, now() + 120, now() + 60)
    assert backwards.status == 422
    naive_times = {"starts_at": "2030-01-01T02:00:00", "ends_at": "2030-01-01T03:00:00", "reason": "x"}
    naive = invoke("config/add_maintenance_window", engine=admin, path_params={"name": "gmail"}, body=naive_times)
    assert naive.status == 422
    unknown = invoke("config/add_maintenance_window", engine=admin, path_params={"name": "fax"},
                     body={"starts_at": iso(now() + 60), "ends_at": iso(now() + 120), "reason": "x"})  # fmt: skip
    assert unknown.status == 404
    for i in range(20):
        assert _window(invoke, admin, now() + 3600 * (i + 1), now() + 3600 * (i + 1) + 60).status == 201
    full = _window(invoke, admin, now() + 999_999, now() + 1_000_000)
    assert full.status == 409 and full.body["error"]["code"] == "too_many_windows"


def test_the_planning_fact_counts_a_platform_in_its_window(seeded, invoke):
    from puraify import wiring
    from puraify.planning.facts import FactContext
    from puraify.planning.providers import CatalogProvider

    admin, _ = seeded
    provider = CatalogProvider(wiring.current().catalog)
    assert provider.collect(FactContext())["platforms_in_maintenance"] == []
    assert _window(invoke, admin, now() - 1, now() + 600).status == 201
    assert provider.collect(FactContext())["platforms_in_maintenance"] == ["gmail"]
