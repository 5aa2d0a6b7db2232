"""PURAIFY engine SDK: ``async with ControlPlane(url, engine_id, engine_key) as cp: await cp.actions.require(...)``."""

__version__ = "0.1.0"
# The API version this SDK (and its CLI) was built for, sent as Puraify-Version on every request: its
# models read that version's shapes whatever version the engine is pinned to (docs/api.md).
API_VERSION = "2026-12-01"

from puraify_client.client import ControlPlane, SyncControlPlane, service_names  # noqa: E402
from puraify_client.errors import (  # noqa: E402
    ActionDenied,
    ApprovalPending,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectionFailed,
    ConnectTimeoutError,
    HTTPError,
    InvalidArgumentError,
    InvalidJSONError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDenied,
    PuraifyClientError,
    RateLimited,
    RateLimitedError,
    ReadTimeoutError,
    RequestTimeout,
    ServerError,
    UnavailableError,
    UnexpectedError,
    UnsupportedProtocolError,
    ValidationError,
)
from puraify_client.services.base import Service, register  # noqa: E402
from puraify_client.services.engines import RateLimit  # noqa: E402
from puraify_client.transport import IDEMPOTENT, SAFE, UNSAFE, RetryPolicy  # noqa: E402
from puraify_client.types import EntitySpec, FlagSpec, PlatformState  # noqa: E402

__all__ = [
    "ActionDenied",
    "ApprovalPending",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConnectTimeoutError",
    "ConnectionFailed",
    "ControlPlane",
    "HTTPError",
    "IDEMPOTENT",
    "InvalidArgumentError",
    "EntitySpec",
    "FlagSpec",
    "PlatformState",
    "InvalidJSONError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDenied",
    "PuraifyClientError",
    "RateLimit",
    "RateLimited",
    "RateLimitedError",
    "ReadTimeoutError",
    "RequestTimeout",
    "RetryPolicy",
    "SAFE",
    "ServerError",
    "Service",
    "SyncControlPlane",
    "UnavailableError",
    "UNSAFE",
    "UnexpectedError",
    "UnsupportedProtocolError",
    "ValidationError",
    "register",
    "service_names",
]
