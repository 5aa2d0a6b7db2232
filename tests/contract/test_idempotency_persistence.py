"""Powertools' idempotency persistence layer: our fake against its DynamoDB layer (``store.idempotency``).

What ``puraify.idempotency`` relies on: one record per key (a second ``save_inprogress`` raises
IdempotencyItemAlreadyExistsError, with the stored record), an expired record or a lapsed
in-progress one may be taken over, a completed record replays its response, a different payload
under the same key is refused, and a deleted record frees the key.
"""

from __future__ import annotations

import time

import pytest
from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from puraify.store.idempotency import dynamo_persistence
from tests.fakes.idempotency import MemoryPersistenceLayer

pytestmark = pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")

REQUEST = {"engine_id": "e1", "key": "k1", "request": ["POST", "/env/create", {"a": 1}]}


@pytest.fixture
def layer(side: str, resources) -> BasePersistenceLayer:
    found: BasePersistenceLayer
    if side == "fake":
        found = MemoryPersistenceLayer()
    else:
        found = dynamo_persistence(resources("IdempotencyTable").name("IdempotencyTable"))
    config = IdempotencyConfig(
        event_key_jmespath="[engine_id, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=3600,
        hash_function="sha256",
    )
    found.configure(config, function_name="contract")
    return found


def completed(layer: BasePersistenceLayer, expiry: int, request: dict = REQUEST) -> DataRecord:
    """A completed record of ``request`` that expires at ``expiry``, written directly."""
    key = layer._get_hashed_idempotency_key(request)
    return DataRecord(key, "COMPLETED", expiry, response_data="{}", payload_hash=layer._get_hashed_payload(request))


def test_a_second_save_of_the_same_key_is_refused_with_the_stored_record(layer) -> None:
    layer.save_inprogress(REQUEST)
    with pytest.raises(IdempotencyItemAlreadyExistsError) as raised:
        layer.save_inprogress(REQUEST)
    old = raised.value.old_data_record
    assert old is None or old.status == "INPROGRESS"


def test_another_key_is_another_record(layer) -> None:
    layer.save_inprogress(REQUEST)
    layer.save_inprogress({**REQUEST, "key": "k2"})
    layer.save_inprogress({**REQUEST, "engine_id": "e2"})


def test_a_completed_record_replays_its_response(layer) -> None:
    layer.save_inprogress(REQUEST)
    layer.save_success(REQUEST, {"statusCode": 201, "body": "{}"})
    record = layer.get_record(REQUEST)
    assert record.status == "COMPLETED"
    assert record.response_json_as_dict() == {"statusCode": 201, "body": "{}"}
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer.save_inprogress(REQUEST)


def test_the_same_key_with_another_payload_is_refused(layer) -> None:
    layer.save_inprogress(REQUEST)
    layer.save_success(REQUEST, {"statusCode": 201})
    other = {**REQUEST, "request": ["POST", "/env/create", {"a": 2}]}
    with pytest.raises(IdempotencyValidationError):
        layer.save_inprogress(other)


def test_an_unknown_key_is_not_found(layer) -> None:
    with pytest.raises(IdempotencyItemNotFoundError):
        layer.get_record(REQUEST)


def test_a_deleted_record_frees_its_key(layer) -> None:
    layer.save_inprogress(REQUEST)
    layer.delete_record(REQUEST, RuntimeError("failed"))
    with pytest.raises(IdempotencyItemNotFoundError):
        layer.get_record(REQUEST)
    layer.save_inprogress(REQUEST)


def test_an_expired_record_is_replaced(layer) -> None:
    layer._put_record(completed(layer, int(time.time()) - 5))
    layer.save_inprogress(REQUEST)
    assert layer.get_record(REQUEST).status == "INPROGRESS"


def test_an_unexpired_record_is_kept(layer) -> None:
    layer._put_record(completed(layer, int(time.time()) + 60))
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer.save_inprogress(REQUEST)


def test_a_record_expiring_this_second_is_kept(layer, monkeypatch) -> None:
    """DynamoDB's condition is ``expiration < now`` in whole seconds: a record is kept through its last second.

    Both layers take ``now`` from the caller's clock (Powertools sends it as ``:now``), so the test fixes that
    clock half way through the record's last second instead of racing the real one.
    """
    import datetime
    from types import SimpleNamespace

    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb as dynamodb_layer

    from tests.fakes import idempotency as memory_layer

    second = int(time.time()) + 30
    frozen = SimpleNamespace(now=lambda *_: datetime.datetime.fromtimestamp(second + 0.5))
    monkeypatch.setattr(dynamodb_layer, "dt", SimpleNamespace(datetime=frozen))
    monkeypatch.setattr(memory_layer, "time", SimpleNamespace(time=lambda: second + 0.5))
    layer._put_record(completed(layer, second))
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer.save_inprogress(REQUEST)


def test_an_in_progress_record_whose_invocation_timed_out_is_replaced(layer) -> None:
    layer.save_inprogress(REQUEST, remaining_time_in_millis=1)
    time.sleep(0.01)
    layer.save_inprogress(REQUEST, remaining_time_in_millis=60_000)
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer.save_inprogress(REQUEST, remaining_time_in_millis=60_000)
