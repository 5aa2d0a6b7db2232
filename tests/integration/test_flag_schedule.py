"""Scheduled flag changes: routes, checks that follow the change at its second from the cached catalog, the
planning fact, and the change recorded as the flag's own (by the admin who scheduled it) once it came due."""

from __future__ import annotations

import json

import pytest

from puraify.clock import iso, now

ADMIN = "admin"
FLAG = {"enabled": True, "platform": "gmail", "action_type": "send_email", "description": "sending"}


@pytest.fixture
def seeded(aws, admin_key, invoke):
    """The starter catalog, flag ``gmail-send`` (on), engine ``action`` (gmail send_email); credentials."""
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    admin = (ADMIN, admin_key)
    reply = invoke("register/register", engine=admin)
    assert reply.status == 201, reply.body
    put = invoke("config/put_flag", engine=admin, body=FLAG, path_params={"name": "gmail-send"})
    assert put.status == 200, put.body
    return admin, ("action", reply.body["engine_key"])


def _schedule(invoke, who, at: float, enabled: bool = False, name: str = "gmail-send"):
    body = {"enabled": enabled, "at": iso(at)}
    return invoke("config/schedule_flag", engine=who, body=body, path_params={"name": name})


def test_a_scheduled_change_applies_at_its_second_without_a_cache_refresh(seeded, invoke, monkeypatch):
    from puraify import wiring
    from puraify.engine_control import checks

    admin, engine = seeded
    at = float(int(now()) + 3600)
    back_on = at + 600
    scheduled = _schedule(invoke, admin, at)
    assert scheduled.status == 201, scheduled.body
    assert scheduled.body["schedule_id"] and scheduled.body["created_by"] == ADMIN
    assert _schedule(invoke, admin, back_on, enabled=True).status == 201
    assert invoke("check/check", engine=engine).body["allowed"] is True
    store = wiring.current().engine_control.catalog_store
    loads = []
    real_load = store.load
    monkeypatch.setattr(store, "load", lambda: loads.append(1) or real_load())

    def check_at(when: float) -> dict:
        monkeypatch.setattr(checks, "now", lambda: when)
        return invoke("check/check", engine=engine).body

    assert check_at(at - 0.001)["allowed"] is True
    off = check_at(at)
    assert (off["allowed"], off["rule"]) == (False, "flag_disabled")
    assert check_at(back_on - 0.001)["allowed"] is False
    assert check_at(back_on)["allowed"] is True
    assert loads == []  # decided from the cached catalog each time


def test_a_due_change_is_recorded_as_the_flags_change_by_the_admin_who_scheduled_it(seeded, invoke, aws, monkeypatch):
    from puraify import wiring
    from puraify.engine_control import flag_schedule

    admin, _ = seeded
    at = float(int(now()) + 60)
    schedule_id = _schedule(invoke, admin, at).body["schedule_id"]
    control = wiring.current().engine_control
    assert control.apply_due_flag_changes() == 0  # not due yet: nothing recorded
    assert control.catalog_store.load().flags["gmail-send"].enabled is True
    monkeypatch.setattr(flag_schedule, "now", lambda: at)
    assert control.apply_due_flag_changes() == 1
    flag = control.catalog_store.load().flags["gmail-send"]
    assert (flag.enabled, flag.updated_at, flag.updated_by, flag.schedule) == (False, iso(at), ADMIN, [])
    assert control.flag_schedule("gmail-send").enabled is False
    assert control.apply_due_flag_changes() == 0  # recorded once
    audit = aws.partition("AuditTable", f"ENGINE#{ADMIN}")
    applied = [i for i in audit if schedule_id in json.dumps(i) and i["status"]["S"] == "allowed"]
    assert len(applied) == 2  # scheduled (schedule_flag) and applied (put_flag), both by the admin
    recorded = next(i for i in applied if '"put_flag"' in json.dumps(i))
    assert '"before": {"enabled": true}' in json.dumps(i_plain(recorded))
    assert '"after": {"enabled": false}' in json.dumps(i_plain(recorded))
    assert any('"schedule_flag"' in json.dumps(i) for i in applied)


def i_plain(item: dict) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    return json.loads(json.dumps({k: TypeDeserializer().deserialize(v) for k, v in item.items()}, default=str))


def test_changes_are_listed_kept_by_a_put_cancelled_and_shown_in_global_config(seeded, invoke, monkeypatch):
    from puraify.engine_control import catalog

    admin, engine = seeded
    first = _schedule(invoke, admin, now() + 600).body
    later = _schedule(invoke, admin, now() + 7200, enabled=True).body
    listed = invoke("config/list_flag_schedule", engine=engine, path_params={"name": "gmail-send"}).body
    assert [c["schedule_id"] for c in listed["changes"]] == [first["schedule_id"], later["schedule_id"]]
    assert (listed["enabled"], listed["max_scheduled"]) == (True, 20)
    # A PUT of the flag keeps its schedule
    assert invoke("config/put_flag", engine=admin, body=FLAG, path_params={"name": "gmail-send"}).status == 200
    again = invoke("config/list_flag_schedule", engine=engine, path_params={"name": "gmail-send"}).body
    assert len(again["changes"]) == 2
    # GET /config/global shows the state in force now
    monkeypatch.setattr(catalog, "now", lambda: now() + 601)
    shown = invoke("config/global_config", engine=engine).body["feature_flags"]["gmail-send"]
    assert shown["enabled"] is False
    # Cancel
    path = {"name": "gmail-send", "schedule_id": first["schedule_id"]}
    cancelled = invoke("config/cancel_flag_change", engine=admin, path_params=path)
    assert cancelled.status == 200 and cancelled.body["schedule_id"] == first["schedule_id"]
    assert invoke("config/cancel_flag_change", engine=admin, path_params=path).status == 404
    left = invoke("config/list_flag_schedule", engine=engine, path_params={"name": "gmail-send"}).body
    assert [c["schedule_id"] for c in left["changes"]] == [later["schedule_id"]]


def test_scheduling_needs_admin_a_future_zoned_time_a_known_flag_and_is_bounded(seeded, invoke):
    admin, engine = seeded
    assert _schedule(invoke, engine, now() + 60).status == 403
    past = _schedule(invoke, admin, now() - 60)
    assert past.status == 422
    naive = invoke("config/schedule_flag", engine=admin, path_params={"name": "gmail-send"},
                   body={"enabled": False, "at": "2030-01-01T02:00:00"})  # fmt: skip
    assert naive.status == 422
    assert _schedule(invoke, admin, now() + 60, name="nope").status == 404
    path = {"name": "gmail-send", "schedule_id": "abc"}
    assert invoke("config/cancel_flag_change", engine=engine, path_params=path).status == 403
    for i in range(20):
        assert _schedule(invoke, admin, now() + 3600 * (i + 1)).status == 201
    full = _schedule(invoke, admin, now() + 999_999)
    assert full.status == 409 and full.body["error"]["code"] == "too_many_scheduled"


def test_the_change_freeze_fact_follows_a_scheduled_deployments_flag(seeded, invoke, monkeypatch):
    from puraify import wiring
    from puraify.planning import providers
    from puraify.planning.facts import FactContext
    from puraify.planning.providers import CatalogProvider

    admin, _ = seeded
    assert invoke("config/put_flag", engine=admin, body={"enabled": True},
                  path_params={"name": "deployments"}).status == 200  # fmt: skip
    at = now() + 600
    assert _schedule(invoke, admin, at, name="deployments").status == 201
    provider = CatalogProvider(wiring.current().catalog)
    assert provider.collect(FactContext())["change_freeze"] is False
    monkeypatch.setattr(providers, "now", lambda: at)
    assert provider.collect(FactContext())["change_freeze"] is True


def test_two_instances_running_the_pass_at_once_record_a_due_change_once(seeded, invoke, aws, monkeypatch):
    import threading

    from puraify import wiring
    from puraify.engine_control import flag_schedule

    admin, _ = seeded
    control = wiring.current().engine_control
    at = float(int(now()) + 60)
    schedule_id = _schedule(invoke, admin, at).body["schedule_id"]
    monkeypatch.setattr(flag_schedule, "now", lambda: at)
    # Two instances whose reads both happen before either writes (the race a one-minute schedule can meet)
    both_read = threading.Barrier(2, timeout=10)
    real_load = control.catalog_store.load

    def load_then_wait():
        catalog = real_load()
        both_read.wait()
        return catalog

    monkeypatch.setattr(control.catalog_store, "load", load_then_wait)
    applied: list[int] = []
    runs = [threading.Thread(target=lambda: applied.append(control.apply_due_flag_changes())) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    monkeypatch.setattr(control.catalog_store, "load", real_load)
    assert sorted(applied) == [0, 1]
    assert control.catalog_store.load().flags["gmail-send"].enabled is False
    audit = aws.partition("AuditTable", f"ENGINE#{ADMIN}")
    recorded = [i for i in audit if schedule_id in json.dumps(i) and '"put_flag"' in json.dumps(i)]
    assert len(recorded) == 1
