"""moto's DynamoDB Query and Scan answered as plain JSON (the same body, a tenth of the time).

moto 5.2.5 serialises every response through its generic, shape-walking serializer: for a Query
of 1,000 audit items that was 85% of the call (about 15 ms an item on this loaded machine), so a
simulation replaying 10,000 audited checks measured moto's serializer, not the code. DynamoDB's
JSON protocol answers the items exactly as moto holds them (attribute values in wire form), so
``apply()`` dumps the result with ``json.dumps``; a result holding binary values keeps moto's own
serializer (which base64-encodes them). Real DynamoDB, DynamoDB Local and LocalStack need nothing of this.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any


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
