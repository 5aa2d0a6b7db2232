"""Engine-level alerts: ``key_expiring`` and ``engine_anomaly`` belong to no project.

Real handlers on moto: the CollectFunction schedule raises them, ``GET /monitoring/alerts`` without
``project_id`` lists them for engines granted ``*`` only, they are acknowledged and resolved like any
alert, a key rotation resolves ``key_expiring``, and the ``*`` routes deliver them. Time moves by passing
``at`` to the pass (no sleeping).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from local.gateway import LambdaContext, load_handler
from local.template import ROOT, Template
from puraify import clock, wiring
from tests.receivers import Receiver

DAY = 86400
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def _schedule() -> dict[str, Any]:
    """One pass of the CollectFunction schedule, fired as EventBridge would."""
    event = json.loads((ROOT / "events" / "collect" / "schedule.json").read_text())
    handler = load_handler(Template().functions()["CollectFunction"])
    return handler(event, LambdaContext("CollectFunction", event.get("id", "schedule")))


def _register(invoke, admin, engine_id: str, **body: Any) -> tuple[str, str]:
    reply = invoke("register/register", engine=admin, body={"engine_id": engine_id, **body})
    assert reply.status == 201, reply.body
    return (engine_id, reply.body["engine_key"])


def _engine_alerts(invoke, who, **query: str) -> list[dict[str, Any]]:
    reply = invoke("log/alerts", engine=who, query={"limit": "50", **query})
    assert reply.status == 200, reply.body
    return reply.body["alerts"]


def _of(alerts: list[dict[str, Any]], kind: str, engine_id: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["event_type"] == kind and a["engine_id"] == engine_id]


def test_a_key_expiring_within_seven_days_raises_one_medium_alert_and_rotation_resolves_it(aws, admin, invoke):
    at = float(int(clock.now()))  # whole seconds: expiries compare exactly after their RFC 3339 round trip
    soon, later = clock.iso(at + 6 * DAY), clock.iso(at + 8 * DAY)
    _register(invoke, admin, "soon-1", expires_at=soon)
    _register(invoke, admin, "later-1", expires_at=later)
    _register(invoke, admin, "never-1")
    # When the schedule runs: only the key within seven days is named
    ran = _schedule()
    assert [k["engine_id"] for k in ran["keys_expiring"]] == ["soon-1"]
    (alert,) = _of(_engine_alerts(invoke, admin), "key_expiring", "soon-1")
    assert alert["severity"] == "medium" and alert["status"] == "open" and alert["project_id"] is None
    assert clock.parse_iso(alert["details"]["expires_at"]) == clock.parse_iso(soon)
    assert alert["message"].startswith("engine soon-1: its key expires at ")
    # And: passes over the same key raise no second alert
    _schedule()
    _schedule()
    assert len(_of(_engine_alerts(invoke, admin), "key_expiring", "soon-1")) == 1
    # A day and a half later the other key enters its last seven days (the pass at a later time)
    wiring.current().planning.watch_keys(at=at + 1.5 * DAY)
    assert len(_of(_engine_alerts(invoke, admin, status="unresolved"), "key_expiring", "later-1")) == 1
    assert _of(_engine_alerts(invoke, admin), "key_expiring", "never-1") == []
    # When soon-1's key is rotated with a far expiry: its alert is resolved at once, and stays so
    rotated = invoke("register/rotate", engine=admin, path_params={"engine_id": "soon-1"},
                     body={"expires_at": clock.iso(at + 90 * DAY)})  # fmt: skip
    assert rotated.status == 200, rotated.body
    (resolved,) = _of(_engine_alerts(invoke, admin), "key_expiring", "soon-1")
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "admin"
    assert resolved["history"][-1]["reason"] == "key rotated"
    _schedule()
    assert _of(_engine_alerts(invoke, admin, status="unresolved"), "key_expiring", "soon-1") == []
    # When later-1 is rotated to a key that also expires within seven days: resolved, then one new alert
    near = clock.iso(at + 2 * DAY)
    assert invoke("register/rotate", engine=admin, path_params={"engine_id": "later-1"},
                  body={"expires_at": near}).status == 200  # fmt: skip
    assert _of(_engine_alerts(invoke, admin, status="unresolved"), "key_expiring", "later-1") == []
    _schedule()
    (again,) = _of(_engine_alerts(invoke, admin, status="unresolved"), "key_expiring", "later-1")
    assert clock.parse_iso(again["details"]["expires_at"]) == clock.parse_iso(near)
    # A rotation without expiry clears it for good
    assert invoke("register/rotate", engine=admin, path_params={"engine_id": "later-1"}, body={}).status == 200
    wiring.current().planning.watch_keys(at=at + 30 * DAY)
    assert _of(_engine_alerts(invoke, admin, status="unresolved"), "key_expiring", "later-1") == []


def test_engine_level_alerts_are_listed_and_handled_only_by_engines_granted_every_project(aws, admin, invoke):
    _register(invoke, admin, "soon-2", expires_at=clock.iso(clock.now() + DAY))
    one = _register(invoke, admin, "oncall-one", scopes=["logs:read", "alerts:manage"], projects=["shop"])
    every = _register(invoke, admin, "oncall-all", scopes=["logs:read", "alerts:manage"], projects=["*"])
    _schedule()
    # An engine granted one project: 403 without project_id, and its project's list has no engine alert
    refused = invoke("log/alerts", engine=one, query={"limit": "50"})
    assert refused.status == 403 and refused.body["error"]["code"] == "project_not_granted"
    assert "project_id" in refused.body["error"]["message"]
    assert _engine_alerts(invoke, one, project_id="shop") == []
    # The reserved partition cannot be named as a project
    assert invoke("log/alerts", engine=every, query={"project_id": "#engines"}).status == 422
    (alert,) = _of(_engine_alerts(invoke, every), "key_expiring", "soon-2")
    assert alert["engine_id"] == "soon-2" and alert["project_id"] is None
    path = {"alert_id": alert["alert_id"]}
    assert invoke("log/alert_show", engine=one, path_params=path).status == 403
    assert invoke("log/alert_acknowledge", engine=one, path_params=path, body={}).status == 403
    # An engine granted "*": shows, acknowledges and resolves it with the alert routes
    assert invoke("log/alert_show", engine=every, path_params=path).body["engine_id"] == "soon-2"
    acked = invoke("log/alert_acknowledge", engine=every, path_params=path, body={"reason": "rotating today"})
    assert acked.status == 200 and acked.body["status"] == "acknowledged", acked.body
    done = invoke("log/alert_resolve", engine=every, path_params=path, body={})
    assert done.status == 200 and done.body["status"] == "resolved"
    assert _of(_engine_alerts(invoke, every, status="acknowledged"), "key_expiring", "soon-2") == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


def test_the_star_routes_deliver_engine_level_alerts(aws, admin, invoke, receiver):
    # Given the "*" routes send key_expiring alerts to a webhook
    routes = [{"name": "keys", "match": {"kind": ["key_expiring"]},
               "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]}]  # fmt: skip
    put = invoke("log/routes_put", engine=admin, body={"routes": routes}, path_params={"project_id": "*"})
    assert put.status == 200, put.body
    _register(invoke, admin, "soon-3", expires_at=clock.iso(clock.now() + 3 * DAY))
    _schedule()
    (alert,) = _of(_engine_alerts(invoke, admin), "key_expiring", "soon-3")
    assert alert["routes"] == ["keys"] and alert["delivery"]["status"] == "routed"  # not held by another engine's
    # When the Monitoring schedule delivers what is owed
    handler = load_handler(Template().functions()["LogFunction"])
    event = json.loads((ROOT / "events" / "log" / "dispatch_retry.json").read_text())
    handler(event, LambdaContext("LogFunction", event["id"]))
    # Then the receiver got it, naming the engine and no project (other tests' engines' alerts may come too)
    sent = [Webhook(SECRET).verify(r["body"], r["headers"])["alert"] for r in receiver.requests]
    (mine,) = [a for a in sent if a["alert_id"] == alert["alert_id"]]
    assert mine["engine_id"] == "soon-3" and "project_id" not in mine and mine["event_type"] == "key_expiring"


def _publish(aws, on_anomaly: str) -> None:
    from puraify.planning.bundles import publish, read_folder
    from puraify.store.planning import S3BundleStore

    files, meta = read_folder(ROOT / "policies" / "gate")
    data = json.loads(files["data.json"])
    data["gate"]["engine_anomaly"]["on_anomaly"] = on_anomaly
    files["data.json"] = json.dumps(data).encode()
    publish(
        S3BundleStore(aws.name("PolicyBucket")), files, revision=f"gate-{on_anomaly}", entrypoint=meta["entrypoint"]
    )
    wiring.current().planning.loader.refresh(force=True)


def test_failed_authentications_raise_engine_anomaly_but_never_suspend(aws, admin, invoke):
    _publish(aws, on_anomaly="suspend")
    target = _register(invoke, admin, "target-4")
    assert invoke("register/validate", engine=target).status == 200  # known to this instance
    wrong = (target[0], "pfk_" + "x" * 43)
    # Given 31 requests naming the engine fail authentication within a minute
    for _ in range(31):
        assert invoke("register/validate", engine=wrong).status == 401
    wiring.current().engine_control.counter.flush()
    # When the schedule judges the minute
    ran = _schedule()
    # Then one engine_anomaly alert names it and the failures; the engine is not suspended
    assert [(a["engine_id"], a["suspended"]) for a in ran["engine_anomalies"]] == [("target-4", False)]
    (alert,) = _of(_engine_alerts(invoke, admin), "engine_anomaly", "target-4")
    assert alert["details"]["auth_failed"] == 31 and alert["project_id"] is None
    assert "31 failed authentications (401) naming it" in alert["message"]
    assert invoke("register/validate", engine=target).status == 200
