"""moto's DynamoDB Query paging without redoing the whole partition for every page (the same answers).

moto 5.2.5's ``Table.query`` answers one page (1 MB, or ``Limit`` items) by doing everything again: it sorts
the whole table (``all_items()``), walks all of it for the partition's items, sorts those, compares each item
before ExclusiveStartKey with it (``_item_comes_before_dct``), sizes each item twice, then deep-copies the
page. Paging through n items of a partition is thus quadratic: simulate's replay of 10,000 audit records (7
pages of 1 MB) spent 1.8 s of 2.7 s in moto's Query, most of it redone per page. ``apply()`` replaces
``Table.query`` with the same function (``_paged_query``, moto's code line by line) in which:

- the partition's sorted items are kept for the current *generation* and reused by the next page (and by
  other Queries of the same partition); moto's sort is a total order (it ends with the table's own keys), so
  it is computed once from the table's items in any order. Every DynamoDB action that may change an item
  (any action but the reads named in ``_READS``) starts a new generation when it starts and again when it
  ends, so nothing sorted before or during a write is used after it. The items of an index are grouped by
  their key values once per generation, so a Query of another partition (a platform's eight shards) does
  not walk the table again;
- ExclusiveStartKey is found by bisection, with moto's own ``_item_comes_before_dct`` (monotone on the
  sorted partition: it compares the same key attributes in the same order as the sort);
- each item's size is computed once per generation, and the page is copied shallowly (a new Item and
  attribute dict over the same values: nothing on a Query's way out changes a value) instead of deeply.

Count, ScannedCount, LastEvaluatedKey, filters and projections are moto's own code on the same items in the
same order. A legacy QueryFilter, a key value that is a list, map or set, or another moto version take moto's
own Query. tests/unit/test_moto_reads.py compares both on randomized tables and paged Queries (table and
indexes, both directions, key conditions, filters, projections, writes between pages). Real DynamoDB,
DynamoDB Local and LocalStack need nothing of this.
"""

from __future__ import annotations

import itertools
from functools import wraps
from typing import Any

MOTO_VERSION = "5.2.5"  # the version whose Table.query ``_paged_query`` follows line by line
_READS = frozenset(  # DynamoDB actions that change no item; any other action starts a new generation
    {"Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems", "DescribeTable", "ListTables",
     "DescribeTimeToLive", "ListTagsOfResource", "DescribeContinuousBackups", "DescribeEndpoints"}
)  # fmt: skip
_ticks = itertools.count(1)


class _Partitions:
    """The sorted partitions (and item sizes) of the current generation; a write action starts a new one."""

    generation = 0
    cached_at = -1
    entries: dict[tuple[Any, ...], Any] = {}  # partitions, and the groups they are picked from


class _Partition:
    def __init__(self, ascending: list[Any]) -> None:
        self.ascending = ascending
        self.descending = ascending[::-1]
        self.sizes: dict[int, int] = {}
        self.table: Any = None

    def size(self, item: Any) -> int:
        size = self.sizes.get(id(item))
        if size is None:
            size = self.sizes[id(item)] = item.size()
        return size


def _count_writes() -> None:
    """Every DynamoDB action that may change an item (anything not in ``_READS``) starts a new generation,
    when it starts and when it ends, so no partition sorted before or during it is used after it."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_counts_writes", False):
        return

    def call_action(self: Any) -> Any:
        if self._get_action() in _READS:
            return original(self)
        _Partitions.generation = next(_ticks)
        try:
            return original(self)
        finally:
            _Partitions.generation = next(_ticks)

    wrapped = wraps(original)(call_action)
    wrapped._counts_writes = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = wrapped  # type: ignore[method-assign]


def apply() -> None:
    """Patch moto's DynamoDB Query in this process (idempotent); call before starting a moto server."""
    _count_writes()
    _page_queries()


def _page_queries() -> None:
    import moto
    from moto.dynamodb.models.table import Table

    original = Table.query
    if getattr(original, "_paged", False) or moto.__version__ != MOTO_VERSION:
        return  # another moto: its own Query, unpatched

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _paged_query(original, self, *args, **kwargs)

    query._paged = True  # type: ignore[attr-defined]
    query._moto = original  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def _key(value: Any) -> tuple[str, Any]:
    hash((value.type, value.cast_value))  # TypeError for a list or map: such a query takes moto's own way
    return value.type, value.cast_value


def _paged_query(
    moto_own: Any,
    self: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, Any]] | None = None,
    range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    """moto's ``Table.query`` (5.2.5), the same answers, with
    - the partition's sorted items kept per generation (``_Partitions``), keyed by the query's table, index,
      hash key and range-key equalities (what decides which items and their order);
    - ExclusiveStartKey found by bisection with moto's own ``_item_comes_before_dct`` (which is monotone on
      the sorted partition: it compares the same key attributes in the same order as the sort);
    - each item's size computed once per generation, and the page's items copied shallowly (a new Item and
      attribute dict over the same values; nothing on a Query's way out changes a value) rather than deep."""
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex

    if filter_kwargs:  # the legacy QueryFilter: moto's own way
        return moto_own(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                        projection_expressions, index_name, consistent_read, filter_expression,
                        hash_key_conditions, range_key_conditions, **filter_kwargs)  # fmt: skip

    index_range_key: dict[str, str] | None = None
    last_range_key_name: str | None = None
    if range_key_conditions:
        last_range_key_name = range_key_conditions[-1][0]

    # FIND POSSIBLE RESULTS: moto's checks and key attributes, the partition itself remembered
    all_hash_conditions: dict[str, Any] = {}
    range_equality_conditions: dict[str, Any] = {}
    index_range_keys: list[dict[str, str]] = []
    if index_name:
        indexes_by_name = {i.name: i for i in self.all_indexes()}
        if index_name not in indexes_by_name:
            all_names = ", ".join(indexes_by_name.keys())
            raise MockValidationException(
                f"Invalid index: {index_name} for table: {self.name}. Available indexes are: {all_names}"
            )
        index = indexes_by_name[index_name]
        if consistent_read and index in self.global_indexes:
            raise MockValidationException("Consistent reads are not supported on global secondary indexes")
        index_hash_keys = [key for key in index.schema if key["KeyType"] == "HASH"]
        if not index_hash_keys:
            raise MockValidationException(f"Missing Hash Key. KeySchema: {index.name}")
        index_range_keys = [key for key in index.schema if key["KeyType"] == "RANGE"]
        if not index_range_keys:
            if isinstance(index, GlobalSecondaryIndex) and self.range_key_attr:
                index_range_key = {"AttributeName": self.range_key_attr}
            else:
                index_range_key = {"AttributeName": self.hash_key_attr}
            if range_comparison:
                raise ValueError(f"Range Key comparison but no range key found for index: {index_name}")
        else:
            index_range_key = index_range_keys[0]
        hash_attrs = [k["AttributeName"] for k in index_hash_keys] + [self.hash_key_attr]
        range_attrs: list[str | None]
        if index_range_keys:
            range_attrs = [k["AttributeName"] for k in index_range_keys]
            range_attrs.append(self.range_key_attr)
        elif index_range_key:
            range_attrs = [index_range_key["AttributeName"], self.range_key_attr]
        else:
            range_attrs = [self.range_key_attr]
        for attr_name, value in hash_key_conditions or []:
            all_hash_conditions[attr_name] = value
        if range_key_conditions and len(range_key_conditions) > 1:
            for attr_name, _comparison, values in range_key_conditions[:-1]:
                range_equality_conditions[attr_name] = values[0]
    else:
        hash_attrs = [self.hash_key_attr]
        range_attrs = [self.range_key_attr]

    try:
        generation = _Partitions.generation
        key = (generation, id(self), index_name,
               None if index_name or hash_key is None else _key(hash_key),
               tuple((name, *_key(value)) for name, value in all_hash_conditions.items()),
               tuple((name, *_key(value)) for name, value in range_equality_conditions.items()))  # fmt: skip
    except TypeError:
        return moto_own(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                        projection_expressions, index_name, consistent_read, filter_expression,
                        hash_key_conditions, range_key_conditions, **filter_kwargs)  # fmt: skip
    if _Partitions.cached_at != generation:
        _Partitions.entries, _Partitions.cached_at = {}, generation
    partition = _Partitions.entries.get(key)
    if partition is None or partition.table is not self:  # (an id is reused only once its table is gone)
        conditions = (all_hash_conditions, range_equality_conditions, index_range_keys)
        partition = _Partition(_partition(self, generation, hash_key, index_name, hash_attrs, range_attrs, *conditions))
        partition.table = self
        _Partitions.entries[key] = partition
    possible_results = partition.descending if scan_index_forward is False else partition.ascending

    # FILTER: moto's loop, from the first item not before ExclusiveStartKey
    results: list[Any] = []
    result_size = 0
    scanned_count = 0
    last_evaluated_key = None
    start, end = 0, len(possible_results)
    if exclusive_start_key is not None:
        while start < end:
            middle = (start + end) // 2
            if self._item_comes_before_dct(possible_results[middle], exclusive_start_key, hash_attrs, range_attrs,
                                           scan_index_forward):  # fmt: skip
                start = middle + 1
            else:
                end = middle
    for position in range(start, len(possible_results)):
        result = possible_results[position]
        size = partition.size(result)
        reached_length_limit = len(results) == limit
        reached_size_limit = (result_size + size) > RESULT_SIZE_LIMIT
        if reached_length_limit or reached_size_limit:
            last_evaluated_key = self._get_last_evaluated_key(results[-1], index_name)
            break
        if not range_comparison:
            results.append(result)
            result_size += size
            scanned_count += 1
        else:
            range_attr_for_comparison: str | None = None
            if last_range_key_name:
                range_attr_for_comparison = last_range_key_name
            elif index_name and index_range_key:
                range_attr_for_comparison = index_range_key["AttributeName"]
            if range_attr_for_comparison and result.attrs.get(range_attr_for_comparison):
                if result.attrs.get(range_attr_for_comparison).compare(range_comparison, range_objs):
                    results.append(result)
                    result_size += size
                    scanned_count += 1
            elif not index_name and result.range_key.compare(range_comparison, range_objs):
                results.append(result)
                result_size += size
                scanned_count += 1

    copies: list[Any] = []
    for result in results:
        copied: Any = Item.__new__(Item)
        copied.hash_key, copied.range_key = result.hash_key, result.range_key
        copied.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(copied.attrs)
        dict.update(copied.attrs, result.attrs)
        copies.append(copied)
    results = copies
    if index_name:
        index = self.get_index(index_name)
        results = [index.project(r) for r in results]
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        results = [r.project(projection_expressions) for r in results]
    return results, scanned_count, last_evaluated_key


def _partition(
    self: Any,
    generation: int,
    hash_key: Any,
    index_name: str | None,
    hash_attrs: list[str],
    range_attrs: list[str | None],
    all_hash_conditions: dict[str, Any],
    range_equality_conditions: dict[str, Any],
    index_range_keys: list[dict[str, str]],
) -> list[Any]:
    """moto's possible results of a query, in its ascending order: the items whose key attributes equal the
    query's (moto's ``!=`` on two values is their type or value differing, so items are grouped by type and
    value, once per generation and index for all its partitions), sorted by moto's own sort."""
    if index_name:
        names = (*all_hash_conditions, *range_equality_conditions)
        present = tuple(key["AttributeName"] for key in index_range_keys)
        wanted = tuple(_key(value) for value in (*all_hash_conditions.values(), *range_equality_conditions.values()))
        what = ("index", index_name, names, present)
        groups = _groups(self, generation, what, lambda item: _values(item, names, present))
        return self.sorted_items(hash_attrs, range_attrs, list(groups.get(wanted, ())))
    groups = _groups(self, generation, ("table",), lambda item: _key(item.hash_key))
    possible_results = list(groups.get(_key(hash_key), ()))
    possible_results.sort(key=lambda item: item.range_key)
    return possible_results


def _values(item: Any, names: tuple[str, ...], present: tuple[str, ...]) -> tuple[Any, ...] | None:
    """The values of ``names`` of an item (None when one is missing, or the item lacks an index range key)."""
    values = []
    for name in names:
        value = item.attrs.get(name)
        if value is None:
            return None
        try:
            values.append(_key(value))
        except TypeError:  # a list, map or set: never equal to a key value (a string, number or binary)
            return None
    if present and not all(item.attrs.get(name) for name in present):
        return None
    return tuple(values)


def _groups(table: Any, generation: int, what: tuple[Any, ...], key: Any) -> dict[Any, list[Any]]:
    """A table's items grouped by ``key`` (None: left out), once per generation; in the table's own order
    (moto walks ``all_items()``, the whole table sorted by its keys, for each page: the partition's sort is a
    total order, ending with the table's keys, so the order it starts from changes nothing)."""
    from moto.dynamodb.models.dynamo_type import Item

    entries, cache_key = _Partitions.entries, (generation, id(table), *what)
    grouped = entries.get(cache_key)
    if grouped is not None and grouped[0] is table:
        return grouped[1]
    groups: dict[Any, list[Any]] = {}
    hash_sets = table.items.values()
    items = [i for s in hash_sets for i in s.values()] if table.range_key_attr else list(hash_sets)
    for item in items:
        if isinstance(item, Item) and (value := key(item)) is not None:
            groups.setdefault(value, []).append(item)
    entries[cache_key] = (table, groups)
    return groups
