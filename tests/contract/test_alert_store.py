"""AlertStore: alerts, their fingerprints' states and the flood gate; every race is a conditional write.

What the alerting relies on: a status change or escalation happens only from the state read (None
otherwise), one alert claims a fingerprint until it is resolved, one retry run claims a due delivery,
and the gate lets one notification through per window, counting those it held back.
"""

from __future__ import annotations

from typing import Any

import pytest

from puraify.monitoring.ports import AlertStore
from puraify.store.monitoring import DynamoMonitoringStore
from tests.contract.conftest import expired, later
from tests.fakes.monitoring import MemoryMonitoringStore

AT = 1_800_000_000.0


@pytest.fixture
def store(side: str, resources) -> AlertStore:
    if side == "fake":
        return MemoryMonitoringStore()
    aws = resources("EventsTable", "AggregatesTable", "AlertsTable")
    return DynamoMonitoringStore(aws.name("EventsTable"), aws.name("AggregatesTable"), aws.name("AlertsTable"), 4)


def alert(n: int, project_id: str = "p1", severity: str = "high", **fields: Any) -> dict[str, Any]:
    created = f"2027-01-15T08:00:{n:02d}.000000Z"
    return {
        "alert_id": f"al-{n:02d}",
        "project_id": project_id,
        "event_type": "error",
        "severity": severity,
        "message": f"alert {n}",
        "triggered_by": "rule",
        "raised_by": "monitoring",
        "created_at": created,
        "status": "open",
        "history": [{"status": "open", "by": "monitoring", "at": created}],
        "delivery": {"status": "not_required"},
        "expires_at": later(),
        **fields,
    }


def step(status: str, at: str = "2027-01-15T09:00:00.000000Z", **fields: Any) -> dict[str, Any]:
    return {"status": status, "by": "e1", "at": at, **fields}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [a["alert_id"] for a in items]


def same(found: dict[str, Any] | None, expected: dict[str, Any]) -> bool:
    return found is not None and {k: found.get(k) for k in expected} == expected


# --- alerts ---------------------------------------------------------------------------------------


def test_an_alert_is_found_by_its_id(store: AlertStore) -> None:
    store.create_alert(alert(1, fingerprint="fp1", details={"n": 1}))
    assert same(store.find_alert("al-01"), alert(1, fingerprint="fp1", details={"n": 1}))
    assert store.find_alert("al-99") is None


def test_a_transition_happens_only_from_an_allowed_status(store: AlertStore) -> None:
    store.create_alert(alert(1))
    changed = store.transition_alert(alert(1), "acknowledged", ("open",), step("acknowledged"))
    assert same(changed, {"status": "acknowledged", "acknowledged_by": "e1", "acknowledged_at": step("x")["at"]})
    assert [s["status"] for s in changed["history"]] == ["open", "acknowledged"]
    assert store.transition_alert(alert(1), "acknowledged", ("open",), step("acknowledged")) is None
    assert store.find_alert("al-01")["status"] == "acknowledged"


def test_resolving_a_fingerprint_alert_releases_the_fingerprint(store: AlertStore) -> None:
    raised = alert(1, fingerprint="fp1")
    store.create_alert(raised)
    assert store.claim_fingerprint("p1", "fp1", raised) is True
    assert store.claim_fingerprint("p1", "fp1", alert(2, fingerprint="fp1")) is False
    assert same(store.fingerprint_states([("p1", "fp1"), ("p1", "fp9")])[("p1", "fp1")],
                {"alert_id": "al-01", "severity": "high"})  # fmt: skip
    assert store.fingerprint_states([("p1", "fp9")]) == {}
    store.transition_alert(raised, "resolved", ("open", "acknowledged"), step("resolved"))
    state = store.fingerprint_states([("p1", "fp1")])[("p1", "fp1")]
    assert state.get("alert_sk") is None and state["resolved_at"] == step("x")["at"]
    assert store.claim_fingerprint("p1", "fp1", alert(2, fingerprint="fp1")) is True


def test_escalation_raises_an_unresolved_alert_once(store: AlertStore) -> None:
    store.create_alert(alert(1))
    sk = f"{alert(1)['created_at']}#al-01"
    changed = store.escalate_alert(sk, "p1", "critical", step("escalated", reason="more errors"))
    assert same(changed, {"severity": "critical", "message": "more errors"})
    assert store.escalate_alert(sk, "p1", "critical", step("escalated", reason="again")) is None
    assert store.escalate_alert("2027-01-01#nothing", "p1", "critical", step("escalated", reason="r")) is None
    store.transition_alert(alert(1), "resolved", ("open",), step("resolved"))
    assert store.escalate_alert(sk, "p1", "high", step("escalated", reason="r")) is None


def test_an_escalation_is_claimed_once_by_the_fingerprints_alert(store: AlertStore) -> None:
    raised = alert(1, fingerprint="fp1")
    store.create_alert(raised)
    store.claim_fingerprint("p1", "fp1", raised)
    sk = f"{raised['created_at']}#al-01"
    assert store.claim_escalation("p1", "fp1", "other-sk", "critical") is False
    assert store.claim_escalation("p1", "fp1", sk, "critical") is True
    assert store.claim_escalation("p1", "fp1", sk, "critical") is False
    assert store.claim_escalation("p1", "fp9", sk, "critical") is False


def test_list_alerts_is_newest_first_filtered_and_pages_with_before(store: AlertStore) -> None:
    for n in range(1, 6):
        store.create_alert(alert(n, severity="critical" if n % 2 else "high"))
    store.create_alert(alert(6, expires_at=expired()))
    store.create_alert(alert(7, project_id="p2"))
    store.transition_alert(alert(5), "resolved", ("open",), step("resolved"))
    assert store.list_alerts("p1", status=None, severity=None, limit=10, before=None) == (
        store.list_alerts("p1", status=None, severity=None, limit=10, before=None)[0],
        False,
    )
    assert ids(store.list_alerts("p1", status=None, severity=None, limit=10, before=None)[0]) == [
        "al-05", "al-04", "al-03", "al-02", "al-01"
    ]  # fmt: skip
    page, more = store.list_alerts("p1", status=None, severity=None, limit=2, before=None)
    assert (ids(page), more) == (["al-05", "al-04"], True)
    cursor = f"{page[-1]['created_at']}#{page[-1]['alert_id']}"
    assert ids(store.list_alerts("p1", status=None, severity=None, limit=2, before=cursor)[0]) == ["al-03", "al-02"]
    assert ids(store.list_alerts("p1", status="open", severity="critical", limit=10, before=None)[0]) == [
        "al-03", "al-01"
    ]  # fmt: skip
    store.transition_alert(alert(4), "acknowledged", ("open",), step("acknowledged"))
    unresolved = store.list_alerts("p1", status="unresolved", severity=None, limit=10, before=None)[0]
    assert ids(unresolved) == ["al-04", "al-03", "al-02", "al-01"]  # acknowledged and open, not resolved al-05


def test_a_page_that_fills_its_limit_says_there_may_be_more(store: AlertStore) -> None:
    """The DynamoDB store stops reading at ``limit`` items: a full last page is followed by an empty one."""
    for n in range(1, 3):
        store.create_alert(alert(n))
    assert store.list_alerts("p1", status=None, severity=None, limit=2, before=None)[1] is True


def test_count_unresolved_counts_one_severity_unexpired(store: AlertStore) -> None:
    for n in range(1, 4):
        store.create_alert(alert(n, severity="critical"))
    store.create_alert(alert(4, severity="high"))
    store.create_alert(alert(5, severity="critical", expires_at=expired()))
    store.create_alert(alert(6, severity="critical", project_id="p2"))
    store.transition_alert(alert(1, severity="critical"), "resolved", ("open",), step("resolved"))
    store.transition_alert(alert(2, severity="critical"), "acknowledged", ("open",), step("acknowledged"))
    assert store.count_unresolved("p1", "critical") == 2


def test_unresolved_fingerprint_alerts_span_projects(store: AlertStore) -> None:
    store.create_alert(alert(1, fingerprint="fp1"))
    store.create_alert(alert(2, fingerprint="fp2", project_id="p2"))
    store.create_alert(alert(3))
    store.create_alert(alert(4, fingerprint="fp4"))
    store.transition_alert(alert(4, fingerprint="fp4"), "resolved", ("open",), step("resolved"))
    assert sorted(ids(store.unresolved_fingerprint_alerts())) == ["al-01", "al-02"]


def test_alerts_are_oldest_first_since_and_unexpired(store: AlertStore) -> None:
    for n in (3, 1, 2):
        store.create_alert(alert(n))
    store.create_alert(alert(4, expires_at=expired()))
    store.create_alert(alert(5, project_id="p2"))
    assert ids(store.alerts("p1")) == ["al-01", "al-02", "al-03"]
    assert ids(store.alerts("p1", alert(2)["created_at"])) == ["al-02", "al-03"]
    assert ids(store.alerts("p1", limit=1)) == ["al-01"]


# --- deliveries and the flood gate -------------------------------------------------------------------


def test_due_alerts_are_the_most_overdue_first_and_claimed_once(store: AlertStore) -> None:
    store.create_alert(alert(1, next_attempt_at=AT + 30))
    store.create_alert(alert(2, next_attempt_at=AT + 10, project_id="p2"))
    store.create_alert(alert(3, next_attempt_at=AT + 90))
    store.create_alert(alert(4))
    assert ids(store.due_alerts(AT + 60)) == ["al-02", "al-01"]
    assert ids(store.due_alerts(AT + 60, limit=1)) == ["al-02"]
    (due, _) = store.due_alerts(AT + 60)
    assert store.claim_retry(due, AT + 120) is True
    assert store.claim_retry(due, AT + 120) is False  # another run read it at the same time
    assert ids(store.due_alerts(AT + 60)) == ["al-01"]


def test_a_delivered_alert_is_no_longer_due(store: AlertStore) -> None:
    store.create_alert(alert(1, next_attempt_at=AT))
    store.update_delivery(alert(1, delivery={"status": "failed", "attempts": 1}, next_attempt_at=AT + 30))
    assert same(
        store.find_alert("al-01"), {"delivery": {"status": "failed", "attempts": 1}, "next_attempt_at": AT + 30}
    )
    assert ids(store.due_alerts(AT + 60)) == ["al-01"]
    store.update_delivery(alert(1, delivery={"status": "delivered", "attempts": 2}))
    assert store.due_alerts(AT + 60) == []
    assert store.find_alert("al-01")["delivery"] == {"status": "delivered", "attempts": 2}


def test_the_gate_lets_one_through_per_window_and_counts_the_rest(store: AlertStore) -> None:
    assert store.pass_gate("p1", "fp1", AT, 60, later()) == (True, 0)
    assert store.pass_gate("p1", "fp1", AT + 10, 60, later()) == (False, 0)
    assert store.pass_gate("p1", "fp1", AT + 20, 60, later()) == (False, 0)
    assert store.pass_gate("p1", "fp2", AT + 20, 60, later()) == (True, 0)
    assert store.pass_gate("p1", "fp1", AT + 61, 60, later()) == (True, 2)
    assert store.pass_gate("p1", "fp1", AT + 62, 60, later()) == (False, 0)
