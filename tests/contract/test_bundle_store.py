"""BundleStore: a versioned object store (S3 with versioning); every put adds a version."""

from __future__ import annotations

import pytest

from puraify.planning.ports import BundleStore
from puraify.store.planning import S3BundleStore
from tests.fakes.planning import MemoryBundleStore


@pytest.fixture
def store(side: str, resources) -> BundleStore:
    if side == "fake":
        return MemoryBundleStore()
    return S3BundleStore(resources("PolicyBucket").name("PolicyBucket"))


def test_a_missing_object_is_none(store: BundleStore) -> None:
    assert store.get("manifest.json") is None
    assert store.head("manifest.json") is None
    assert store.versions("manifest.json", 5) == []


def test_get_reads_the_latest_or_a_given_version(store: BundleStore) -> None:
    first = store.put("manifest.json", b'{"revision": 1}', "application/json")
    second = store.put("manifest.json", b'{"revision": 2}', "application/json")
    assert first and second and first != second
    assert store.get("manifest.json") == b'{"revision": 2}'
    assert store.get("manifest.json", first) == b'{"revision": 1}'
    assert store.get("manifest.json", second) == b'{"revision": 2}'


def test_a_version_of_another_key_is_none(store: BundleStore) -> None:
    other = store.put("bundles/r1/policy.rego", b"package p")
    store.put("manifest.json", b"{}")
    assert store.get("manifest.json", other) is None


def test_head_is_the_latest_version_and_changes_with_every_put(store: BundleStore) -> None:
    first = store.put("manifest.json", b"1")
    assert store.head("manifest.json") == first
    second = store.put("manifest.json", b"1")  # the same bytes again: still a new version
    assert store.head("manifest.json") == second != first


def test_versions_are_newest_first_limited_and_of_that_key_only(store: BundleStore) -> None:
    made = [store.put("manifest.json", f"{n}".encode()) for n in range(3)]
    store.put("manifest.json.bak", b"x")
    store.put("bundles/r1/manifest.json", b"x")
    assert store.versions("manifest.json", 10) == made[::-1]
    assert store.versions("manifest.json", 2) == made[:0:-1]
