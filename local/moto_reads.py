"""moto's DynamoDB Query and Scan answered as plain JSON (the same body, a tenth of the time).

moto 5.2.5 serialises every response through its generic, shape-walking serializer: for a Query
of 1,000 audit items that was 85% of the call (about 15 ms an item on this loaded machine), so a
simulation replaying 10,000 audited checks measured moto's serializer, not the code. DynamoDB's
JSON protocol answers the items exactly as moto holds them (attribute values in wire form), so
``apply()`` dumps the result with ``json.dumps``; a result holding binary values keeps moto's own
serializer (which base64-encodes them). Real DynamoDB, DynamoDB Local and LocalStack need nothing of this.

Two more of moto's costs that grow with the items a Query reads (measured on simulate's replay of
10,000 audit records, moto alone: 3.7 s without a ProjectionExpression, 16.9 s with one):
- a ProjectionExpression turned each item into plain JSON and back through boto3's (de)serializers
  and a size-checked dict; projecting top-level attribute names now keeps just those values.
  Nested paths (``a.b``, ``a[0]``) keep moto's way.
- a GSI Query sorted the partition comparing ``DynamoType`` objects (each comparison recomputing
  both values); the sort now computes each item's key values once. The order is the same.
- a string's value and size (every comparison and every page's size count) walked five type tests first.
- an item's size (what fills a 1 MB page) called a method per attribute; strings and numbers, most of an
  item, are now sized in the item's own loop (the same bytes: UTF-8 length, digits of the number).
- a Query's answer became plain values (``dynamo_to_dict``) through four type tests and a ``hasattr`` per
  value and string; strings, numbers, booleans, lists, maps and string or number sets now take one.
  Binary values and anything else keep moto's function.

Query paging (each page redid the whole partition: sort, scan, deep copies) is ``local/moto_query_pages.py``,
applied with these.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from local import moto_query_pages


def apply() -> None:
    """Patch moto's DynamoDB Query and Scan responses in this process (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    for name in ("query", "scan"):
        original = getattr(DynamoHandler, name)
        if getattr(original, "_plain_json", False):
            continue

        def plain(self: Any, _original: Any = original) -> Any:
            result = _original(self)
            if not isinstance(result, ActionResult):
                return result
            try:
                return json.dumps(result.result)
            except TypeError:  # bytes (binary attributes): moto's serializer encodes them
                return result

        wrapped = wraps(original)(plain)
        wrapped._plain_json = True  # type: ignore[attr-defined]
        setattr(DynamoHandler, name, wrapped)
    _project_top_level_names()
    _sort_by_key_values()
    _strings_first()
    _item_sizes_inline()
    _plain_values()
    moto_query_pages.apply()


def _project_top_level_names() -> None:
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    original = Item.project
    if getattr(original, "_top_level", False):
        return

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return original(self, projection_expressions)
        result: Any = Item.__new__(Item)
        result.hash_key, result.range_key = self.hash_key, self.range_key
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(attrs)
        for (name,) in projection_expressions:
            if name in self.attrs:
                # shared, not copied: a Query projects copies already, and GetItem answers the stored item
                # itself when it has no projection; an answer is only serialised
                dict.__setitem__(attrs, name, self.attrs[name])
        result.attrs = attrs
        return result

    project._top_level = True  # type: ignore[attr-defined]
    project._moto = original  # type: ignore[attr-defined]
    Item.project = project  # type: ignore[method-assign]


def _sort_by_key_values() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.sorted_items, "_by_values", False):
        return

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> Any:
        names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple([item.attrs[name].cast_value for name in names]))
        return items

    sorted_items._by_values = True  # type: ignore[attr-defined]
    sorted_items._moto = Table.sorted_items  # type: ignore[attr-defined]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]


def _strings_first() -> None:
    """A string attribute's value and size without walking the type tests first (a GSI Query compares and
    sizes every item of the table on each page)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    cast, size = DynamoType.cast_value, DynamoType.size
    if getattr(size, "_strings_first", False):
        return

    def cast_value(self: Any) -> Any:
        return self.value if self.type == "S" else cast.fget(self)  # type: ignore[attr-defined]

    def sized(self: Any) -> int:
        return bytesize(self.value) if self.type == "S" else size(self)

    sized._strings_first = True  # type: ignore[attr-defined]
    sized._moto = (cast.fget, size)  # type: ignore[attr-defined]
    DynamoType.cast_value = property(cast_value)  # type: ignore[method-assign,assignment]
    DynamoType.size = sized  # type: ignore[method-assign]


def _item_sizes_inline() -> None:
    from moto.dynamodb.models.dynamo_type import Item

    size = Item.size
    if getattr(size, "_inline", False):
        return

    def item_size(self: Any) -> int:
        total = 0
        for key, value in self.attrs.items():
            total += len(key.encode("utf-8"))
            kind = value.type
            if kind == "S":
                total += len(value.value.encode("utf-8"))
            elif kind == "N":
                total += len(str(value.value))
            else:
                total += value.size()
        return total

    item_size._inline = True  # type: ignore[attr-defined]
    item_size._moto = size  # type: ignore[attr-defined]
    Item.size = item_size  # type: ignore[method-assign]


def _plain_values() -> None:
    """An answer's items as plain values (``DynamoResult``'s ``dynamo_to_dict``) with one type test per value:
    moto's walks four tests and a ``hasattr`` for each of an item's values and their strings. Binary values,
    dates and anything else go through moto's own function, so the result is the same."""
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    moto_own = responses.dynamo_to_dict
    if getattr(moto_own, "_plain", False):
        return
    scalars, sets = frozenset({"S", "N", "BOOL", "NULL"}), frozenset({"SS", "NS"})

    def to_dict(obj: Any) -> Any:
        kind = type(obj)
        if kind is DynamoType:
            if obj.type in scalars and type(obj.value) in (str, bool):
                return {obj.type: obj.value}
            if obj.type == "M" and type(obj.value) is dict:
                return {"M": {key: to_dict(value) for key, value in obj.value.items()}}
            if obj.type == "L" and type(obj.value) is list:
                return {"L": [to_dict(value) for value in obj.value]}
            if obj.type in sets and type(obj.value) is list and all(type(v) is str for v in obj.value):
                return {obj.type: list(obj.value)}
            return moto_own(obj)
        if kind is dict or kind is LimitedSizeDict:
            return {key: to_dict(value) for key, value in obj.items()}
        if kind is list:
            return [to_dict(value) for value in obj]
        if kind is str or kind is int or kind is bool or obj is None:
            return obj
        return moto_own(obj)

    to_dict._plain = True  # type: ignore[attr-defined]
    to_dict._moto = moto_own  # type: ignore[attr-defined]
    responses.dynamo_to_dict = to_dict
