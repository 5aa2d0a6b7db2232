"""DeploymentStore: deployment markers and bakes; the watch's writes are conditional on ``checks``.

Reads leave out expired deployments (``expires_at`` passed) and come newest first; ``baking`` lists
only deployments being baked, the earliest due first.
"""

from __future__ import annotations

from typing import Any

import pytest

from puraify.environments.errors import DeploymentChanged
from puraify.environments.ports import DeploymentStore
from puraify.environments.records import DeploymentRecord
from puraify.errors import PuraifyError
from puraify.store.deployments import DynamoDeploymentStore
from tests.contract.conftest import expired, later
from tests.fakes.environments import MemoryDeploymentStore


@pytest.fixture
def store(side: str, resources) -> DeploymentStore:
    if side == "fake":
        return MemoryDeploymentStore()
    return DynamoDeploymentStore(resources("DeploymentsTable").name("DeploymentsTable"))


def deployment(n: int, environment: str = "staging", project_id: str = "p1", **fields: Any) -> DeploymentRecord:
    values: dict[str, Any] = {
        "deployment_id": f"d{n}",
        "project_id": project_id,
        "environment": environment,
        "action": "promote",
        "version": f"v1.0.{n}",
        "actor": "e1",
        "created_at": f"2025-01-01T00:00:{n:02d}Z",
        "started_epoch": 1_735_689_600.5 + n,
        "revision": n,
        "expires_at": later(),
    }
    return DeploymentRecord(**{**values, **fields})


def test_put_then_get(store: DeploymentStore) -> None:
    record = deployment(1, state="baking", bake_seconds=600, previous_version="v1.0.0", source_env="development")
    store.put(record)
    assert store.get("p1", record.key) == record
    assert store.get("p1", "staging#nothing") is None
    assert store.get("p2", record.key) is None


def test_put_never_overwrites(store: DeploymentStore) -> None:
    store.put(deployment(1))
    with pytest.raises(PuraifyError):
        store.put(deployment(1, version="v9.9.9"))
    assert store.get("p1", deployment(1).key).version == "v1.0.1"


def test_replace_at_the_checks_read_writes_the_record(store: DeploymentStore) -> None:
    store.put(deployment(1, state="baking", bake_seconds=60))
    store.replace(deployment(1, state="baking", bake_seconds=60, checks=1), expected_checks=0)
    store.replace(deployment(1, state="healthy", checks=2), expected_checks=1)
    assert store.get("p1", deployment(1).key).state == "healthy"


def test_replace_with_stale_checks_is_deployment_changed_and_writes_nothing(store: DeploymentStore) -> None:
    store.put(deployment(1, state="baking", bake_seconds=60))
    store.replace(deployment(1, state="baking", bake_seconds=60, checks=1), expected_checks=0)  # another tick
    with pytest.raises(DeploymentChanged):
        store.replace(deployment(1, state="rolled_back", checks=1), expected_checks=0)
    assert store.get("p1", deployment(1).key).state == "baking"


def test_replace_of_a_missing_deployment_is_deployment_changed(store: DeploymentStore) -> None:
    with pytest.raises(DeploymentChanged):
        store.replace(deployment(1, checks=1), expected_checks=0)
    assert store.get("p1", deployment(1).key) is None


def test_delete_removes_and_is_quiet_when_absent(store: DeploymentStore) -> None:
    store.put(deployment(1))
    store.delete(deployment(1))
    store.delete(deployment(1))
    assert store.get("p1", deployment(1).key) is None


def test_latest_is_the_environments_newest_unexpired_deployment(store: DeploymentStore) -> None:
    assert store.latest("p1", "staging") is None
    store.put(deployment(1))
    store.put(deployment(2))
    store.put(deployment(3, environment="production"))
    store.put(deployment(4, project_id="p2"))
    assert store.latest("p1", "staging").deployment_id == "d2"
    store.put(deployment(5, expires_at=expired()))
    assert store.latest("p1", "staging").deployment_id == "d2"


def test_latest_does_not_mix_environments_sharing_a_prefix(store: DeploymentStore) -> None:
    store.put(deployment(1, environment="stag"))
    store.put(deployment(2, environment="staging"))
    assert store.latest("p1", "stag").deployment_id == "d1"


def test_recent_is_newest_first_limited_and_unexpired(store: DeploymentStore) -> None:
    store.put(deployment(1))
    store.put(deployment(2, environment="production"))
    store.put(deployment(3))
    store.put(deployment(4, expires_at=expired()))
    store.put(deployment(5, project_id="p2"))
    assert [d.deployment_id for d in store.recent("p1")] == ["d3", "d2", "d1"]
    assert [d.deployment_id for d in store.recent("p1", limit=2)] == ["d3", "d2"]
    assert [d.deployment_id for d in store.recent("p1", "staging")] == ["d3", "d1"]


def test_recent_since_is_inclusive(store: DeploymentStore) -> None:
    for n in (1, 2, 3):
        store.put(deployment(n))
    since = deployment(2).created_at
    assert [d.deployment_id for d in store.recent("p1", since=since)] == ["d3", "d2"]
    assert [d.deployment_id for d in store.recent("p1", "staging", since=since)] == ["d3", "d2"]


def test_baking_lists_only_bakes_the_earliest_due_first(store: DeploymentStore) -> None:
    store.put(deployment(1, state="baking", bake_seconds=600))
    store.put(deployment(2, state="baking", bake_seconds=60, project_id="p2"))
    store.put(deployment(3))
    store.put(deployment(4, state="baking", bake_seconds=60, expires_at=expired()))
    assert [d.deployment_id for d in store.baking()] == ["d2", "d1"]
    assert [d.deployment_id for d in store.baking(limit=1)] == ["d2"]


def test_a_finished_bake_leaves_the_baking_list(store: DeploymentStore) -> None:
    store.put(deployment(1, state="baking", bake_seconds=60))
    store.replace(deployment(1, state="healthy", checks=1), expected_checks=0)
    assert store.baking() == []
