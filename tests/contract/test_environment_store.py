"""EnvironmentStore: project heads, environment heads, their history, and immutable versions.

Every change is a conditional put: an environment head on its revision (RevisionConflict), a new
environment or version on its absence (EnvironmentExists, LabelTaken), the project head on its
sequence (ProjectChanged).
"""

from __future__ import annotations

from typing import Any

import pytest

from puraify.environments.errors import EnvironmentExists, LabelTaken, ProjectChanged, RevisionConflict
from puraify.environments.ports import EnvironmentStore
from puraify.environments.records import (
    EnvironmentRecord,
    HistoryRecord,
    LastChange,
    ProjectRecord,
    Variable,
    VersionRecord,
)
from puraify.store.environments import DynamoEnvironmentStore
from tests.fakes.environments import MemoryEnvironmentStore

AT = "2025-01-01T00:00:00Z"
CHANGE = LastChange(action="create", created_by="e1", timestamp=AT)


@pytest.fixture
def store(side: str, resources) -> EnvironmentStore:
    if side == "fake":
        return MemoryEnvironmentStore()
    aws = resources("EnvironmentsTable", "VersionsTable")
    return DynamoEnvironmentStore(aws.name("EnvironmentsTable"), aws.name("VersionsTable"))


def head(env: str, revision: int = 1, project_id: str = "p1", **fields: Any) -> EnvironmentRecord:
    return EnvironmentRecord(project_id=project_id, env=env, revision=revision, created_at=AT, updated_at=AT,
                             updated_by="e1", last_change=CHANGE, **fields)  # fmt: skip


def entry(env: str, revision: int, project_id: str = "p1") -> HistoryRecord:
    return HistoryRecord(project_id=project_id, env=env, revision=revision, config_revision=1, last_change=CHANGE)


def version(label: str, seq: int = 1, project_id: str = "p1") -> VersionRecord:
    return VersionRecord(project_id=project_id, label=label, seq=seq, content_hash=f"h-{label}", entities=["a"],
                         flows={"f1": "d1"}, flags={"beta": True}, state={"entities": ["a"], "flows": {"f1": {}}},
                         environment="development", created_at=AT, created_by="e1")  # fmt: skip


def project(seq: int) -> ProjectRecord:
    label = f"v1.0.{seq}"
    return ProjectRecord(project_id="p1", latest_label=label, latest_seq=seq, latest_hash=f"h{seq}",
                         highest_label=label, created_at=AT, updated_at=AT)  # fmt: skip


# --- environment heads ---------------------------------------------------------------------------


def test_a_new_environment_is_created_once(store: EnvironmentStore) -> None:
    variables = {"A": Variable(value="1"), "K": Variable(secret=True, secret_id="s", secret_version="v")}
    record = head("staging", variables=variables, flags={"beta": True}, version="v1.0.0", version_seq=1)
    store.put_environment(record, None)
    with pytest.raises(EnvironmentExists):
        store.put_environment(head("staging", version="v9.9.9"), None)
    assert store.load("p1", ["staging"]) == (None, {"staging": record})


def test_a_head_is_replaced_at_the_revision_read(store: EnvironmentStore) -> None:
    store.put_environment(head("staging"), None)
    store.put_environment(head("staging", revision=2, version="v1.0.1"), 1)
    assert store.load("p1", ["staging"])[1]["staging"].version == "v1.0.1"


def test_a_stale_revision_is_a_conflict_naming_the_current_one(store: EnvironmentStore) -> None:
    store.put_environment(head("staging"), None)
    store.put_environment(head("staging", revision=2, version="v1.0.1"), 1)
    with pytest.raises(RevisionConflict) as raised:
        store.put_environment(head("staging", revision=2, version="v1.0.2"), 1)
    assert raised.value.current_revision == 2
    assert store.load("p1", ["staging"])[1]["staging"].version == "v1.0.1"


def test_a_revision_of_a_missing_environment_is_a_conflict(store: EnvironmentStore) -> None:
    with pytest.raises(RevisionConflict) as raised:
        store.put_environment(head("staging", revision=2), 1)
    assert raised.value.current_revision is None
    assert store.load("p1", ["staging"]) == (None, {})


def test_load_reads_the_project_and_the_named_environments(store: EnvironmentStore) -> None:
    store.put_project(project(1), None)
    for env in ("development", "staging", "production"):
        store.put_environment(head(env), None)
    store.put_environment(head("staging", project_id="p2"), None)
    found, heads = store.load("p1", ["staging", "production", "missing", "staging"])
    assert found == project(1)
    assert sorted(heads) == ["production", "staging"]
    assert sorted(h.env for h in store.list_environments("p1")) == ["development", "production", "staging"]
    assert store.list_environments("p3") == []


def test_expired_previews_are_listed_the_earliest_expiry_first(store: EnvironmentStore) -> None:
    store.put_environment(head("pr-2", preview=True, expires_at=1_700_000_200.0), None)
    store.put_environment(head("pr-1", preview=True, expires_at=1_700_000_100.0), None)
    store.put_environment(head("pr-3", preview=True, expires_at=1_700_000_900.0), None)
    store.put_environment(head("staging"), None)
    assert [h.env for h in store.expired_previews(1_700_000_500.0)] == ["pr-1", "pr-2"]
    assert [h.env for h in store.expired_previews(1_700_000_500.0, limit=1)] == ["pr-1"]
    assert [h.env for h in store.expired_previews(1_700_000_100.0)] == ["pr-1"]  # at its expiry: expired


def test_delete_environment_removes_its_head_and_history(store: EnvironmentStore) -> None:
    store.put_environment(head("pr-1", preview=True, expires_at=1_700_000_100.0), None)
    store.put_environment(head("staging"), None)
    store.put_history([entry("pr-1", 1), entry("pr-1", 2), entry("staging", 1)])
    store.delete_environment("p1", "pr-1")
    assert store.load("p1", ["pr-1", "staging"])[1].keys() == {"staging"}
    assert store.history("p1", "pr-1", 10) == []
    assert store.expired_previews(1_700_000_500.0) == []
    assert [e.revision for e in store.history("p1", "staging", 10)] == [1]


# --- history ---------------------------------------------------------------------------------------


def test_history_is_newest_first_limited_and_pages_with_before(store: EnvironmentStore) -> None:
    store.put_history([entry("staging", n) for n in range(1, 13)] + [entry("production", 1), entry("stag", 1)])
    assert [e.revision for e in store.history("p1", "staging", 3)] == [12, 11, 10]
    assert [e.revision for e in store.history("p1", "staging", 3, before=10)] == [9, 8, 7]
    assert [e.revision for e in store.history("p1", "staging", 5, before=3)] == [2, 1]
    assert store.history_entry("p1", "staging", 11) == entry("staging", 11)
    assert store.history_entry("p1", "staging", 13) is None


def test_writing_a_history_entry_again_changes_nothing(store: EnvironmentStore) -> None:
    store.put_history([entry("staging", 1)])
    store.put_history([entry("staging", 1), entry("staging", 1)])
    assert store.history("p1", "staging", 10) == [entry("staging", 1)]


# --- versions and the project head ---------------------------------------------------------------


def test_a_version_label_is_taken_once(store: EnvironmentStore) -> None:
    store.put_version(version("v1.0.0"))
    with pytest.raises(LabelTaken):
        store.put_version(version("v1.0.0", seq=2))
    store.put_version(version("v1.0.0", project_id="p2"))
    assert store.versions("p1", ["v1.0.0"], with_state=True)["v1.0.0"] == version("v1.0.0")


def test_versions_without_state_read_the_summary_only(store: EnvironmentStore) -> None:
    store.put_version(version("v1.0.0"))
    store.put_version(version("v1.0.1", seq=2))
    found = store.versions("p1", ["v1.0.1", "v1.0.0", "v9.9.9", ""])
    assert found == {label: version(label, seq).model_copy(update={"state": None}) for label, seq in
                     (("v1.0.0", 1), ("v1.0.1", 2))}  # fmt: skip
    assert store.versions("p1", []) == {}
    assert store.version_hash("p1", "v1.0.1") == "h-v1.0.1"
    assert store.version_hash("p1", "v9.9.9") is None


def test_a_deleted_version_frees_its_label(store: EnvironmentStore) -> None:
    store.put_version(version("v1.0.0"))
    store.delete_version("p1", "v1.0.0")
    store.delete_version("p1", "v1.0.0")
    assert store.versions("p1", ["v1.0.0"]) == {}
    store.put_version(version("v1.0.0", seq=2))


def test_the_project_head_advances_only_from_the_sequence_read(store: EnvironmentStore) -> None:
    store.put_project(project(1), None)
    with pytest.raises(ProjectChanged):
        store.put_project(project(1), None)
    store.put_project(project(2), 1)
    with pytest.raises(ProjectChanged):
        store.put_project(project(3), 1)
    assert store.load("p1", [])[0] == project(2)
