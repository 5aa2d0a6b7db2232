"""Base classes of the SDK's bodies: requests are strict, responses tolerate new fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as ModelValidationError

from puraify_client.errors import InvalidArgumentError


class Checked(BaseModel):
    """A model whose construction fails with the SDK's ``InvalidArgumentError`` (code 1009), never pydantic's own."""

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ModelValidationError as error:
            raise InvalidArgumentError.from_validation(type(self).__name__, error) from None


class Request(Checked):
    """A request body: an unknown or misspelt field is an error here, before anything is sent.

    The error is the SDK's ``InvalidArgumentError`` (code 1009), never pydantic's own.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ModelValidationError as error:
            raise InvalidArgumentError.from_validation(type(self).__name__, error) from None


class Response(BaseModel):
    """A response body: fields a newer control plane adds are kept (``model_extra``), never an error."""

    model_config = ConfigDict(extra="allow", defer_build=True)
