"""Base classes of the SDK's bodies: requests are strict, responses tolerate new fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Request(BaseModel):
    """A request body: an unknown or misspelt field is an error here, before anything is sent."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Response(BaseModel):
    """A response body: fields a newer control plane adds are kept (``model_extra``), never an error."""

    model_config = ConfigDict(extra="allow", defer_build=True)
