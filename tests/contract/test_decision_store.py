"""DecisionStore: decisions by deployment and by project, newest first, ``since`` and a ``before`` cursor."""

from __future__ import annotations

from typing import Any

import pytest

from puraify.planning.ports import DecisionStore
from puraify.store.planning import DynamoDecisionStore
from tests.contract.conftest import expired, later
from tests.fakes.planning import MemoryDecisionStore

FLOOR = "0"  # the service's ``since`` when none is asked for (DynamoDB refuses an empty key value)


@pytest.fixture
def store(side: str, resources) -> DecisionStore:
    if side == "fake":
        return MemoryDecisionStore()
    return DynamoDecisionStore(resources("PlanDecisionsTable").name("PlanDecisionsTable"))


def decision(n: int, deployment_id: str = "d1", project_id: str = "p1", **fields: Any) -> dict[str, Any]:
    return {
        "decision_id": f"dec-{n:02d}",
        "deployment_id": deployment_id,
        "project_id": project_id,
        "evaluated_at": f"2025-01-01T00:00:{n:02d}Z",
        "allow": n % 2 == 0,
        "reasons": ["r"],
        "facts": {"error_rate": {"value": 0.5, "error": None}},
        "fail_safe": False,
        "expires_at": later(),
        **fields,
    }


def cursor(n: int) -> str:
    return f"2025-01-01T00:00:{n:02d}Z#dec-{n:02d}"


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["decision_id"] for r in records]


def test_a_decision_reads_back_as_put_without_its_none_values(store: DecisionStore) -> None:
    store.put(decision(1, note=None))
    (found,) = store.by_deployment("d1", FLOOR, 10)
    assert found == {k: v for k, v in decision(1).items()} | {"facts": {"error_rate": {"value": 0.5}}}
    assert store.by_project("p1", FLOOR, 10) == [found]


def test_by_deployment_is_newest_first_since_inclusive_and_limited(store: DecisionStore) -> None:
    for n in (3, 1, 4, 2):
        store.put(decision(n))
    store.put(decision(5, deployment_id="d2"))
    store.put(decision(6, expires_at=expired()))
    assert ids(store.by_deployment("d1", FLOOR, 10)) == ["dec-04", "dec-03", "dec-02", "dec-01"]
    assert ids(store.by_deployment("d1", "2025-01-01T00:00:02Z", 10)) == ["dec-04", "dec-03", "dec-02"]
    assert ids(store.by_deployment("d1", FLOOR, 2)) == ["dec-04", "dec-03"]


def test_by_project_spans_deployments(store: DecisionStore) -> None:
    store.put(decision(1, deployment_id="d1"))
    store.put(decision(2, deployment_id="d2"))
    store.put(decision(3, deployment_id="d3", project_id="p2"))
    store.put(decision(4, deployment_id="d4", expires_at=expired()))
    assert ids(store.by_project("p1", FLOOR, 10)) == ["dec-02", "dec-01"]


@pytest.mark.parametrize("read", ["by_deployment", "by_project"])
def test_before_pages_through_without_repeating_the_cursor(store: DecisionStore, read: str) -> None:
    for n in range(1, 6):
        store.put(decision(n))
    query = getattr(store, read)
    key = "d1" if read == "by_deployment" else "p1"
    assert ids(query(key, FLOOR, 2)) == ["dec-05", "dec-04"]
    assert ids(query(key, FLOOR, 2, cursor(4))) == ["dec-03", "dec-02"]
    assert ids(query(key, FLOOR, 2, cursor(2))) == ["dec-01"]
    assert ids(query(key, "2025-01-01T00:00:02Z", 10, cursor(4))) == ["dec-03", "dec-02"]
    assert query(key, "2025-01-01T00:00:04Z", 10, cursor(2)) == []  # a cursor older than since
