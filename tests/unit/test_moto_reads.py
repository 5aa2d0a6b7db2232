"""The local emulator's faster Query paths (local/moto_reads.py) answer what moto's own code answers."""

from __future__ import annotations

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
