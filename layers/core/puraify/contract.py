"""What every service's API models share: the base models and the limits of a storable value.

A request body refuses unknown fields; a free-form map (details, attributes) must be something
DynamoDB stores (bounded size and depth, numbers within its range), so that one bad value is a
422 instead of a failed write.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict

# The deployment gate's flag: the only one without a platform. Like every flag, enabled means what
# it targets may run: switched off, deployments into protected environments stop (a change freeze).
DEPLOYMENTS_FLAG = "deployments"


class Model(BaseModel):
    """Base of every model here: its schema is built at first use, so a function builds only those it uses."""

    model_config = ConfigDict(defer_build=True)


class Request(Model):
    """Base of request bodies: unknown fields are an error, not silently dropped.

    Strings are taken exactly as sent: policy files, variable values and secrets are content whose
    digests must match the sender's, and an id with stray spaces fails its pattern (422) instead of
    being silently changed.
    """

    model_config = ConfigDict(extra="forbid")


MAX_DETAILS_BYTES = 8 * 1024
MAX_DETAILS_DEPTH = 8
MAX_ATTRIBUTES = 32
MAX_ATTRIBUTES_BYTES = 8 * 1024
# DynamoDB numbers: 38 significant digits, magnitude 1e-130 .. 9.99e125 (or 0).
MIN_NUMBER = 1e-130
MAX_NUMBER = 9.9e125


def storable_number(value: float | int) -> None:
    """Reject a number DynamoDB cannot store."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) >= 10**38:
            raise ValueError("numbers must have at most 38 digits")
        return
    if math.isnan(value) or math.isinf(value):
        raise ValueError("numbers must be finite")
    if value != 0 and not MIN_NUMBER <= abs(value) <= MAX_NUMBER:
        raise ValueError("numbers must be 0 or between 1e-130 and 9.9e125 in magnitude (what DynamoDB stores)")


def storable(value: Any, depth: int = 0, what: str = "details") -> None:
    """Reject what DynamoDB would refuse (so one bad event cannot fail a whole batch)."""
    if depth > MAX_DETAILS_DEPTH:
        raise ValueError(f"{what} may nest at most {MAX_DETAILS_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"{what} keys must be non-empty strings")
            storable(item, depth + 1, what)
    elif isinstance(value, list):
        for item in value:
            storable(item, depth + 1, what)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int | float):
        try:
            storable_number(value)
        except ValueError as error:
            raise ValueError(f"{what} {error}") from None
    else:
        raise ValueError(f"{what} values must be JSON values")


def bounded(value: dict[str, Any] | None, what: str, max_bytes: int) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(json.dumps(value, default=str)) > max_bytes:
        raise ValueError(f"{what} must serialize to at most {max_bytes} bytes")
    storable(value, what=what)
    return value


def small_details(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return bounded(value, "details", MAX_DETAILS_BYTES)


def small_attributes(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes (unknown fields), got {len(value)}")
    return bounded(value, "attributes", MAX_ATTRIBUTES_BYTES) or None
