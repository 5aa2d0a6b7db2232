"""SecretStore: one secret per project, environment and variable; every write a new version."""

from __future__ import annotations

import uuid

import pytest

from puraify.environments.ports import SecretStore
from puraify.errors import UnavailableError
from puraify.store.secrets import SecretsManagerStore
from tests.conftest import _prefixes
from tests.fakes.environments import MemorySecretStore


@pytest.fixture
def store(side: str, pointed: str) -> SecretStore:
    prefix = f"puraify/c{next(_prefixes)}/env"
    return MemorySecretStore(prefix) if side == "fake" else SecretsManagerStore(prefix)


def token() -> str:
    return str(uuid.uuid4())


def test_the_name_is_the_prefix_project_environment_and_variable(store: SecretStore) -> None:
    assert store.name("p1", "staging", "API_KEY").endswith("/p1/staging/API_KEY")
    assert store.name("p1", "staging", "API_KEY") != store.name("p1", "production", "API_KEY")


def test_put_then_get(store: SecretStore) -> None:
    name, version = store.put("p1", "staging", "API_KEY", "s3cret", token())
    assert name == store.name("p1", "staging", "API_KEY")
    assert store.get(name, version) == "s3cret"


def test_every_put_is_a_version_and_old_ones_stay_readable(store: SecretStore) -> None:
    name, first = store.put("p1", "staging", "API_KEY", "one", token())
    _, second = store.put("p1", "staging", "API_KEY", "two", token())
    assert first != second
    assert (store.get(name, first), store.get(name, second)) == ("one", "two")


def test_a_retried_put_with_the_same_token_is_the_same_version(store: SecretStore) -> None:
    once = token()
    first = store.put("p1", "staging", "API_KEY", "one", once)
    assert store.put("p1", "staging", "API_KEY", "one", once) == first


def test_delete_removes_the_secret(store: SecretStore) -> None:
    """(Deleting an unknown secret is left open: moto answers a forced delete of one with success, so the
    adapter's False is not reached there.)"""
    name, version = store.put("p1", "staging", "API_KEY", "one", token())
    assert store.delete(name) is True
    with pytest.raises(UnavailableError):
        store.get(name, version)


def test_reading_an_unknown_secret_or_version_is_unavailable(store: SecretStore) -> None:
    name, _ = store.put("p1", "staging", "API_KEY", "one", token())
    with pytest.raises(UnavailableError):
        store.get(name, token())
    with pytest.raises(UnavailableError):
        store.get(store.name("p1", "staging", "OTHER"), token())
