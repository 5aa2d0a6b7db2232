"""In-memory twins of the stores, for unit tests and benchmarks: not part of the shipped layer.

Each is held to its DynamoDB/S3 adapter by the same behavioural tests in ``tests/contract``.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

# Values that a copy may share with the caller's item: nothing can change them (deepcopy returns them as they are).
_IMMUTABLE = frozenset({str, int, float, bool, bytes, Decimal})


def stored(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` as DynamoDB keeps it: map attributes whose value is None are left out, at any depth.

    Immutable values are shared, not deep-copied (the copy is the same, at a sixth of the cost: the benchmarks
    run the check path over these stores, and an audit record is mostly strings)."""
    return _strip(item)


def _strip(value: Any) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        return {k: v if type(v) in _IMMUTABLE else _strip(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value]
    return copy.deepcopy(value)
