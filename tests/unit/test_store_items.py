"""``from_item`` reads DynamoDB's wire form by hand (a replay reads 10,000 items): it must give exactly what
boto3's ``TypeDeserializer`` followed by the number and set conversion gave."""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.types import Binary, TypeDeserializer

from puraify.store.items import _from_dynamo, from_item, to_item


def _as_boto3_did(item: dict) -> dict:
    deserializer = TypeDeserializer()
    return {k: _from_dynamo(deserializer.deserialize(v)) for k, v in item.items()}


def test_from_item_equals_boto3s_deserializer_on_every_type() -> None:
    values = {
        "s": "text", "empty": "", "n_int": 42, "n_neg": -7, "n_big": 10**30, "n_float": 1.25, "n_tiny": 1e-30,
        "t": True, "f": False, "map": {"a": {"b": [1, "x", None, 2.5, {"c": False}]}, "n": 3}, "list": [[], {}, "y"],
        "expires_at": 1804394073,
    }  # fmt: skip
    item = to_item(values)
    item["null"] = {"NULL": True}
    item["n_exp"] = {"N": "1E+3"}
    item["n_point_zero"] = {"N": "5.0"}
    item["ss"] = {"SS": ["b", "a"]}
    item["ns"] = {"NS": ["1", "2.5"]}
    item["b"] = {"B": b"\x00\x01"}
    mine, theirs = from_item(item), _as_boto3_did(item)
    for name in ("ss", "ns"):  # sets come back as lists; the order of a set is not kept by either
        assert sorted(mine.pop(name)) == sorted(theirs.pop(name))
    assert mine == theirs
    assert type(mine["n_point_zero"]) is type(theirs["n_point_zero"]) is int
    assert type(mine["n_float"]) is float and isinstance(mine["b"], Binary)
    assert not any(isinstance(v, Decimal) for v in mine.values())
