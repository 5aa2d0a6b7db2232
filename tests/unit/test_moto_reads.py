"""The local emulator's faster Query paths (local/moto_reads.py) answer what moto's own code answers."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item

from local import moto_reads


def _item() -> Item:
    attrs = {
        "pk": {"S": "ENGINE#a"}, "sk": {"S": "2026-12-07T00:00:00Z#r1"}, "n": {"N": "42"}, "f": {"N": "1.5"},
        "details": {"M": {"rule": {"S": "not_granted"}, "list": {"L": [{"N": "1"}, {"NULL": True}]}}},
        "ss": {"SS": ["a", "b"]}, "t": {"BOOL": True},
    }  # fmt: skip
    return Item(hash_key=attrs["pk"], range_key=attrs["sk"], attrs=attrs)


def test_projecting_top_level_names_answers_what_moto_answers() -> None:
    moto_reads.apply()
    patched = Item.project
    moto_own = patched._moto  # type: ignore[attr-defined]
    item = _item()
    for names in (["pk", "details", "n"], ["f", "missing", "ss", "t"], ["sk"]):
        paths = [[name] for name in names]
        mine = patched(item, paths)
        assert _values(mine) == _values(moto_own(item, paths))  # a set's order is not kept by moto's either
        assert _values(patched(item, [["details", "rule"]])) == _values(moto_own(item, [["details", "rule"]]))


def _values(item: Item) -> dict:
    return {name: (value.type, value.cast_value) for name, value in item.attrs.items()}


def test_a_strings_value_and_size_are_moto_own() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_reads.apply()
    cast, size = DynamoType.size._moto  # type: ignore[attr-defined]
    for wire in ({"S": "ENGINE#a"}, {"S": ""}, {"S": "żółw 🐢"}, {"N": "1.50"}, {"SS": ["a", "b"]},
                 {"M": {"a": {"S": "x"}}}, {"BOOL": True}, {"NULL": True}):  # fmt: skip
        value = DynamoType(wire)
        assert (value.cast_value, value.size()) == (cast(value), size(value))


def test_an_items_size_and_plain_values_are_moto_own() -> None:
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_reads.apply()
    rng = random.Random(7)
    items = [_item()] + [Item(hash_key=DynamoType(w["pk"]), range_key=DynamoType(w["sk"]), attrs=w)
                         for w in (_random_item(rng, n) for n in range(40))]  # fmt: skip
    cast, size = DynamoType.size._moto  # type: ignore[attr-defined]
    for item in items:
        assert Item.size(item) == sum(len(k.encode()) + size(v) for k, v in item.attrs.items())
        assert Item.size(item) == Item.size._moto(item)  # type: ignore[attr-defined]
        answer = {"Count": 1, "Items": [item.attrs], "LastEvaluatedKey": {"pk": item.hash_key}}
        assert responses.dynamo_to_dict(answer) == responses.dynamo_to_dict._moto(answer)  # type: ignore[attr-defined]


# Query paging (``_paged_query``) and the answer's conversion (``_plain_values``) against moto's own, through boto3:
# the same seeded table and the same seeded script of paged Queries, with writes between the pages, run twice.

TABLE = "paged"


def _moto_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every patch of moto_reads on moto's read path taken back for this test (moto 5.2.5 as released)."""
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    monkeypatch.setattr(Table, "query", Table.query._moto)  # type: ignore[attr-defined]
    monkeypatch.setattr(Table, "sorted_items", Table.sorted_items._moto)  # type: ignore[attr-defined]
    monkeypatch.setattr(Item, "project", Item.project._moto)  # type: ignore[attr-defined]
    cast, size = DynamoType.size._moto  # type: ignore[attr-defined]
    monkeypatch.setattr(DynamoType, "cast_value", property(cast))
    monkeypatch.setattr(DynamoType, "size", size)
    monkeypatch.setattr(responses, "dynamo_to_dict", responses.dynamo_to_dict._moto)  # type: ignore[attr-defined]
    monkeypatch.setattr(Item, "size", Item.size._moto)  # type: ignore[attr-defined]


def _client() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url="https://dynamodb.us-east-1.amazonaws.com")


def _create(client: Any) -> None:
    key = lambda name, kind: {"AttributeName": name, "KeyType": kind}  # noqa: E731
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[key("pk", "HASH"), key("sk", "RANGE")],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind}
                              for name, kind in (("pk", "S"), ("sk", "S"), ("g", "S"), ("n", "N"))],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_g", "KeySchema": [key("g", "HASH"), key("sk", "RANGE")],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "by_g_n", "KeySchema": [key("g", "HASH"), key("n", "RANGE")],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["body"]}},
            {"IndexName": "g_only", "KeySchema": [key("g", "HASH")], "Projection": {"ProjectionType": "KEYS_ONLY"}},
        ],
    )  # fmt: skip


def _random_item(rng: random.Random, n: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"P#{rng.randrange(3)}"}, "sk": {"S": f"2026-12-0{rng.randrange(1, 8)}T{n:05d}"},
        "n": {"N": str(rng.choice([rng.randrange(-50, 50), rng.randrange(1000) / 8]))},
        "body": {"S": "żx" * rng.choice([1, 40, 10000])},  # up to 30 KB: some Queries take 1 MB pages
        "details": {"M": {"rule": {"S": rng.choice(["granted", "not_granted"])},
                          "list": {"L": [{"N": "1"}, {"NULL": True}]}}},
        "ok": {"BOOL": rng.random() < 0.5}, "tags": {"SS": ["a", f"t{n % 4}"]},
    }  # fmt: skip
    if rng.random() < 0.8:  # some items are in no index but the table
        item["g"] = {"S": f"G#{rng.randrange(4)}"}
    if rng.random() < 0.1:
        item["raw"] = {"B": bytes([n % 256, 0, 255])}
    return item


def _query(rng: random.Random) -> dict[str, Any]:
    index = rng.choice([None, "by_g", "by_g_n", "g_only"])
    kwargs: dict[str, Any] = {"TableName": TABLE, "ScanIndexForward": rng.random() < 0.5}
    values: dict[str, Any] = {}
    if index is None:
        condition, values[":h"] = "pk = :h", {"S": f"P#{rng.randrange(4)}"}
    else:
        kwargs["IndexName"] = index
        condition, values[":h"] = "g = :h", {"S": f"G#{rng.randrange(5)}"}
    range_key = {None: "sk", "by_g": "sk", "by_g_n": "n", "g_only": None}[index]
    if range_key == "sk" and rng.random() < 0.7:
        condition += rng.choice([" AND sk BETWEEN :a AND :b", " AND sk > :a", " AND begins_with(sk, :a)"])
        values[":a"], values[":b"] = {"S": f"2026-12-0{rng.randrange(1, 5)}"}, {"S": f"2026-12-0{rng.randrange(4, 9)}"}
    elif range_key == "n" and rng.random() < 0.7:
        condition += " AND n >= :a"
        values[":a"] = {"N": str(rng.randrange(-20, 20))}
    if rng.random() < 0.4:
        kwargs["FilterExpression"] = "ok = :t" if "ok" not in condition else "attribute_exists(raw)"
        values[":t"] = {"BOOL": True}
    if rng.random() < 0.4 and index != "g_only":
        kwargs["ProjectionExpression"] = rng.choice(["pk, sk, n, tags", "pk, sk, details.#r, raw", "sk, body, g"])
        if "#r" in kwargs["ProjectionExpression"]:
            kwargs["ExpressionAttributeNames"] = {"#r": "rule"}
    if rng.random() < 0.5:
        kwargs["Limit"] = rng.randrange(1, 40)
    kwargs["KeyConditionExpression"] = condition
    kwargs["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in condition or k in kwargs.get(
        "FilterExpression", "")}  # fmt: skip
    return kwargs


def _write(client: Any, rng: random.Random, n: int) -> None:
    """One write between two pages: a put, an update of an index key or a deletion, one or several at once."""
    kind = rng.choice(["put", "update", "delete", "batch", "transact"])
    key = {"pk": {"S": f"P#{rng.randrange(3)}"}, "sk": {"S": f"2026-12-0{rng.randrange(1, 8)}T{rng.randrange(n):05d}"}}
    if kind == "put":
        client.put_item(TableName=TABLE, Item=_random_item(rng, n))
    elif kind == "update":
        values = {":g": {"S": f"G#{rng.randrange(4)}"}, ":n": {"N": "7"}}
        set_g = "SET g = :g, n = :n"
        client.update_item(TableName=TABLE, Key=key, UpdateExpression=set_g, ExpressionAttributeValues=values)
    elif kind == "delete":
        client.delete_item(TableName=TABLE, Key=key)
    elif kind == "batch":
        puts = [{"PutRequest": {"Item": _random_item(rng, n + k)}} for k in range(3)]
        client.batch_write_item(RequestItems={TABLE: puts})
    else:
        client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": _random_item(rng, n)}},
                                                   {"Delete": {"TableName": TABLE, "Key": key}}])  # fmt: skip


def _transcript(seed: int) -> list[Any]:
    """Every page of a seeded script of Queries (some followed to their end, some with writes between pages)."""
    rng = random.Random(seed)
    pages: list[Any] = []
    with mock_aws():
        client = _client()
        _create(client)
        for n in range(300):
            client.put_item(TableName=TABLE, Item=_random_item(rng, n))
        for q in range(30):
            kwargs = _query(rng)
            writes = rng.random() < 0.4
            for _ in range(60):
                try:
                    page = client.query(**kwargs)
                except ClientError as error:
                    pages.append(("error", (kwargs, error.response["Error"])))
                    break
                answer = {k: page.get(k) for k in ("Count", "ScannedCount", "LastEvaluatedKey")}
                pages.append((kwargs, {**answer, "Items": _sets_sorted(page["Items"])}))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}
                if writes:
                    _write(client, rng, 300 + q)
    return pages


def _sets_sorted(value: Any) -> Any:
    """A set's members in order (a set has none: moto's own projection answers them in its own hash order)."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else _sets_sorted(v) for k, v in value.items()}
    return [_sets_sorted(v) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paged_queries_answer_what_moto_answers(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_reads.apply()
    patched = _transcript(seed)
    with monkeypatch.context() as own:
        _moto_own(own)
        moto_own = _transcript(seed)
    assert len(patched) == len(moto_own)
    for mine, theirs in zip(patched, moto_own, strict=True):
        assert mine == theirs
    answers = [(kwargs, page) for kwargs, page in patched if kwargs != "error"]
    assert sum("ExclusiveStartKey" in kwargs for kwargs, _ in answers) > 30  # pages after the first
    assert any(page["LastEvaluatedKey"] and "Limit" not in kwargs for kwargs, page in answers)  # a 1 MB page


def _legacy_pages() -> list[Any]:
    rng, pages = random.Random(5), []
    with mock_aws():
        client = _client()
        _create(client)
        for n in range(60):
            client.put_item(TableName=TABLE, Item=_random_item(rng, n))
        kwargs: dict[str, Any] = {
            "TableName": TABLE, "Limit": 4,
            "KeyConditions": {"pk": {"AttributeValueList": [{"S": "P#1"}], "ComparisonOperator": "EQ"}},
            "QueryFilter": {"ok": {"AttributeValueList": [{"BOOL": True}], "ComparisonOperator": "EQ"}},
        }  # fmt: skip
        while True:
            page = client.query(**kwargs)
            pages.append({k: page.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
            if "LastEvaluatedKey" not in page:
                return pages
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_legacy_query_filter_takes_moto_own_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_reads.apply()
    patched = _legacy_pages()
    with monkeypatch.context() as own:
        _moto_own(own)
        assert patched == _legacy_pages()
    assert len(patched) > 3 and any(page["Count"] < page["ScannedCount"] for page in patched)  # filtered
