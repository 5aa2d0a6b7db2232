"""Conversion between plain Python values and DynamoDB's attribute-value wire format."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from puraify.errors import UnavailableError
from puraify.observability import logger
from puraify.store.clients import client

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A dict of Python values as a DynamoDB item (None values are left out)."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in values.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    return _serializer.serialize(_to_dynamo(value))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a dict of Python values (numbers as int or float, sets as lists)."""
    return {k: _plain(v) for k, v in item.items()}


def _plain(value: dict[str, Any]) -> Any:
    """One attribute value as a plain value: what ``TypeDeserializer`` then ``_from_dynamo`` give, at a
    fifth of their cost (a replay reads 10,000 items); binary values still go through them."""
    ((kind, wire),) = value.items()
    if kind == "S" or kind == "BOOL":
        return wire
    if kind == "N":
        return _number(wire)
    if kind == "M":
        return {k: _plain(v) for k, v in wire.items()}
    if kind == "L":
        return [_plain(v) for v in wire]
    if kind == "NULL":
        return None
    if kind == "SS":
        return list(wire)
    if kind == "NS":
        return [_number(v) for v in wire]
    return _from_dynamo(_deserializer.deserialize(value))


def _number(wire: str) -> int | float:
    try:
        return int(wire)
    except ValueError:
        return _from_dynamo(Decimal(wire))


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call (``ConditionalCheckFailedException``, ``ResourceNotFoundException``...)."""
    return error.response.get("Error", {}).get("Code", "")


def is_condition_failure(error: ClientError) -> bool:
    return error_code(error) in ("ConditionalCheckFailedException", "TransactionCanceledException")


def unavailable(error: BotoCoreError | ClientError, what: str) -> UnavailableError:
    """The 503 a caller gets when the store fails; the AWS error itself is only logged."""
    logger.warning("store call failed", extra={"store": what, "aws_error": repr(error)[:500]})
    return UnavailableError(f"{what} is temporarily unavailable; retry later", code="store_unavailable")


def query_all(what: str, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    """The items of a DynamoDB Query as plain values, following pages up to ``limit`` (503 on failure)."""
    items: list[dict[str, Any]] = []
    try:
        while limit is None or len(items) < limit:
            page = client("dynamodb").query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except (BotoCoreError, ClientError) as error:
        raise unavailable(error, what) from error
    return items if limit is None else items[:limit]
