"""In-memory twins of the stores, for unit tests and benchmarks: not part of the shipped layer.

Each is held to its DynamoDB/S3 adapter by the same behavioural tests in ``tests/contract``.
"""

from __future__ import annotations

import copy
from typing import Any


def stored(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` as DynamoDB keeps it: map attributes whose value is None are left out, at any depth."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if v is not None}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return copy.deepcopy(value)

    return strip(item)
