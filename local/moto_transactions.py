"""moto's TransactWriteItems without its whole-table backups (same results, errors and rollback).

moto 5.2.5 backs up every table a transaction names with ``copy.deepcopy``, once per item of the
transaction: a 100-item transaction on a table of n items copies 100 * n items (11 s at 1,000
events, 33 s at 4,000), so a batch of events written in transactions of 100 measures moto, not
the code. ``apply()`` keeps moto's own transaction logic (conditions, ``CancellationReasons``,
validation) and backs up only the items the transaction touches, which is what its rollback
restores. Real DynamoDB, DynamoDB Local and LocalStack need nothing of this.
"""

from __future__ import annotations

import copy
from typing import Any


class _KeepTables:
    """``copy`` for moto's DynamoDB models module: a Table is not copied (the items are backed up instead)."""

    def __init__(self, table_type: type) -> None:
        self.table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self.table_type) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def apply() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent); call before starting a moto server."""
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend, DynamoType
    from moto.dynamodb.models.table import Table

    if isinstance(models.copy, _KeepTables):
        return
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName"))
            key = op.get("Item") if "Put" in entry else op.get("Key")
            if table is None or not key or table.hash_key_attr not in key:
                continue  # moto itself reports what is wrong with it
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.has_range_key and range_value is None:
                continue
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_value, range_value)
                elif range_value is None:
                    table.items[hash_value] = item
                else:
                    table.items[hash_value][range_value] = item
            raise

    models.copy = _KeepTables(Table)  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
