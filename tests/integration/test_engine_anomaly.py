"""The engine_anomaly rule on the schedule: the Planning Engine judges each engine's stored check counters."""

from __future__ import annotations

import json

import pytest

from local.gateway import LambdaContext, load_handler
from local.template import ROOT, Template

ADMIN = "admin"
ALLOWED = {"platform": "gmail", "action_type": "send_email"}
DENIED = {"platform": "gmail", "action_type": "delete_all_mail"}
GATE = ROOT / "policies" / "gate"


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    from local.runner import SEED
    from puraify import wiring
    from puraify.engine_control.bootstrap import seed_catalog

    seed_catalog(wiring.current().catalog, json.loads(SEED.read_text()))
    return (ADMIN, admin_key)


def _publish(aws, on_anomaly: str = "alert") -> None:
    from puraify import wiring
    from puraify.planning.bundles import publish, read_folder
    from puraify.store.planning import S3BundleStore

    files, meta = read_folder(GATE)
    data = json.loads(files["data.json"])
    data["gate"]["engine_anomaly"]["on_anomaly"] = on_anomaly
    files["data.json"] = json.dumps(data).encode()
    publish(
        S3BundleStore(aws.name("PolicyBucket")), files, revision=f"gate-{on_anomaly}", entrypoint=meta["entrypoint"]
    )
    wiring.current().planning.loader.refresh(force=True)


def _register(invoke, admin, engine_id: str, **body) -> tuple[str, str]:
    body = {"engine_id": engine_id, "permissions": {"gmail": ["send_email"]}, **body}
    reply = invoke("register/register", engine=admin, body=body)
    assert reply.status == 201, reply.body
    return (engine_id, reply.body["engine_key"])


def _burst(invoke, engine, check=DENIED, times: int = 60) -> None:
    """``times`` checks in batches of 20 (each check counts), then the instance's counts flushed."""
    from puraify import wiring

    for _ in range(times // 20):
        reply = invoke("check/check", engine=engine, body={"checks": [check] * 20})
        assert reply.status == 200, reply.body
    wiring.current().engine_control.counter.flush()


def _schedule() -> dict:
    """One pass of the CollectFunction schedule, fired as EventBridge would."""
    event = json.loads((ROOT / "events" / "collect" / "schedule.json").read_text())
    handler = load_handler(Template().functions()["CollectFunction"])
    return handler(event, LambdaContext("CollectFunction", event.get("id", "schedule")))


def _anomaly_alerts(invoke, admin) -> list[dict]:
    reply = invoke("log/alerts", engine=admin, query={"limit": "50"})  # engine-level: no project_id
    assert reply.status == 200, reply.body
    return [a for a in reply.body["alerts"] if a["event_type"] == "engine_anomaly"]


def test_60_denied_checks_in_a_minute_raise_one_engine_anomaly_alert_on_the_next_pass(aws, admin, invoke):
    _publish(aws)
    prober = _register(invoke, admin, "prober", rate_limit={"per_second": 100, "burst": 100})
    calm = _register(invoke, admin, "calm")
    # Given: one engine sends 60 denied checks in a minute, another 20 allowed ones
    _burst(invoke, prober)
    _burst(invoke, calm, ALLOWED, times=20)
    # When: the schedule's pass runs
    ran = _schedule()
    # Then: one high alert names the engine and its numbers; the calm engine is not named
    assert [a["engine_id"] for a in ran["engine_anomalies"]] == ["prober"]
    alerts = _anomaly_alerts(invoke, admin)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["severity"] == "high" and alert["status"] == "open"
    assert alert["message"].startswith("engine prober: 60 of 60 checks denied in minute ")
    assert alert["details"]["engine_id"] == "prober" and alert["details"]["denied"] == 60
    # And: the default only alerts; the engine keeps working
    assert invoke("register/validate", engine=prober).status == 200
    # And: the next pass over the same counters raises no second alert while this one is unresolved
    _burst(invoke, prober, times=20)
    _schedule()
    assert len(_anomaly_alerts(invoke, admin)) == 1


def test_on_anomaly_suspend_suspends_the_engine_but_never_the_last_admin(aws, admin, invoke):
    _publish(aws, on_anomaly="suspend")
    rogue = _register(invoke, admin, "rogue", rate_limit={"per_second": 100, "burst": 100})
    _burst(invoke, rogue)
    _burst(invoke, admin)  # the last active admin misbehaves too
    ran = _schedule()
    outcome = {a["engine_id"]: a["suspended"] for a in ran["engine_anomalies"]}
    assert outcome == {"rogue": True, ADMIN: False}
    refused = invoke("register/validate", engine=rogue)
    assert refused.status == 403 and refused.body["error"]["code"] == "engine_suspended"
    shown = invoke("register/show", engine=admin, path_params={"engine_id": "rogue"}).body
    assert shown["suspended"]["by"] == "planning" and "engine_anomaly" in shown["suspended"]["reason"]
    assert invoke("register/validate", engine=admin).status == 200  # alerted, not suspended
    assert {a["details"]["engine_id"] for a in _anomaly_alerts(invoke, admin)} == {"rogue", ADMIN}
    # An operator undoes it with reinstate
    back = invoke("register/reinstate", engine=admin, path_params={"engine_id": "rogue"}, body={"reason": "fixed"})
    assert back.status == 200 and invoke("register/validate", engine=rogue).status == 200


def test_without_a_published_bundle_the_pass_judges_nothing(aws, admin, invoke):
    prober = _register(invoke, admin, "prober")
    _burst(invoke, prober)
    assert _schedule()["engine_anomalies"] == []
