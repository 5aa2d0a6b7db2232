"""Engine events (``POST /log/engine_event``) in the events table, expiring through TTL.

``pk = ENGINE#<engine_id>``, ``sk = <timestamp>#<event_id>``. An event's key is derived from its
``event_id``, so a retried event overwrites itself instead of being stored twice.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.store.clients import client
from puraify.store.items import to_item, unavailable


class DynamoEventStore:
    def __init__(self, table: str):
        self.table = table

    def put(self, event: dict[str, Any]) -> None:
        try:
            client("dynamodb").put_item(TableName=self.table, Item=to_item(event))
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the event log") from error
