"""One exception hierarchy for everything the SDK can raise, with stable numeric codes.

The numeric ``code`` tells the family of failure and never changes between releases; scripts
and engines branch on it (or on the class), never on the message:

====  ========================  ===========================================================
code  class                     meaning
====  ========================  ===========================================================
1001  RequestTimeout            connect or read timed out (``phase`` says which)
1002  UnsupportedProtocolError  the base URL is not http:// or https://
1003  ConnectionFailed          the control plane could not be reached, or hung up
1004  HTTPError                 the control plane answered with an error status
1005  UnexpectedError           anything else (a response that does not match the contract)
1006  InvalidJSONError          a success response whose body is not JSON
1007  ActionDenied              ``actions.require`` / ``guard``: the check said no
1008  ConfigurationError        no base URL or credentials were given
1009  InvalidArgumentError      a call's arguments are wrong (a misspelt keyword, a bad value)
1010  ApprovalPending           a grant change waits for another admin (``.change``; four-eyes on)
====  ========================  ===========================================================

``HTTPError`` has a subclass per status an engine handles differently (401, 403, 404, 409,
413, 422, 429, 503, other 4xx and 5xx), each carrying the server's ``error_code``,
``message``, ``details`` and ``request_id``. No message or repr ever contains a credential.
"""

from __future__ import annotations

from typing import Any

TIMEOUT = 1001
UNSUPPORTED_PROTOCOL = 1002
CONNECTION = 1003
HTTP = 1004
UNEXPECTED = 1005
INVALID_JSON = 1006
ACTION_DENIED = 1007
CONFIGURATION = 1008
INVALID_ARGUMENT = 1009
APPROVAL_PENDING = 1010
MAX_FIELDS_SHOWN = 5  # in an error's text; ``details`` holds them all


class PuraifyClientError(Exception):
    """Base of every SDK error. ``code`` is the stable number, ``message`` is for people."""

    code = UNEXPECTED

    def __init__(self, message: str, *, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        suffix = f" (request_id={self.request_id})" if self.request_id else ""
        return f"[{self.code}] {self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code}, request_id={self.request_id!r})"


class ApprovalPending(PuraifyClientError):
    """The control plane accepted a grant change but holds it for another admin's approval (202).

    ``change_id`` and ``change`` (a ``GrantChange``) say what waits; nothing was applied yet.
    """

    code = APPROVAL_PENDING

    def __init__(self, message: str, *, change: Any, request_id: str | None = None):
        super().__init__(message, request_id=request_id)
        self.change = change
        self.change_id: str = change.change_id


class ConfigurationError(PuraifyClientError):
    code = CONFIGURATION


class InvalidArgumentError(PuraifyClientError, ValueError):
    """A call's arguments are wrong; nothing was sent. ``details`` name each field, as a 422 would."""

    code = INVALID_ARGUMENT

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.details = details or []
        self.what = ""

    @classmethod
    def from_validation(cls, what: str, error: Any) -> InvalidArgumentError:
        """From pydantic's ``ValidationError``: field and message of each problem, never the input."""
        details: list[dict[str, Any]] = []
        for problem in error.errors(include_input=False, include_url=False):
            inner = (problem.get("ctx") or {}).get("error")
            if isinstance(inner, InvalidArgumentError):  # a request model built inside: its fields, not a wrapper
                details.extend(inner.details)
                what = inner.what
                continue
            details.append(
                {"field": ".".join(str(p) for p in problem.get("loc", ())) or what, "message": problem.get("msg", "")}
            )
        listed = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        made = cls(f"invalid arguments for {what}: {listed}", details=details)
        made.what = what
        return made


class RequestTimeout(PuraifyClientError):
    """The control plane did not answer in time; ``phase`` is ``connect``, ``read``, ``write`` or ``pool``."""

    code = TIMEOUT

    def __init__(self, message: str, *, phase: str):
        super().__init__(message)
        self.phase = phase


class ConnectTimeoutError(RequestTimeout):
    def __init__(self, message: str):
        super().__init__(message, phase="connect")


class ReadTimeoutError(RequestTimeout):
    def __init__(self, message: str):
        super().__init__(message, phase="read")


class UnsupportedProtocolError(PuraifyClientError):
    code = UNSUPPORTED_PROTOCOL


class ConnectionFailed(PuraifyClientError):
    """The control plane could not be reached (``sent`` False) or dropped the connection mid-request."""

    code = CONNECTION

    def __init__(self, message: str, *, sent: bool):
        super().__init__(message)
        self.sent = sent


class UnexpectedError(PuraifyClientError):
    code = UNEXPECTED


class InvalidJSONError(PuraifyClientError):
    code = INVALID_JSON


class HTTPError(PuraifyClientError):
    """An error status from the control plane, with its error envelope."""

    code = HTTP
    status = 0

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: str = "",
        details: list[Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, request_id=request_id)
        self.status = status
        self.error_code = error_code
        self.details = details or []
        self.retry_after = retry_after

    def __str__(self) -> str:
        suffix = f" (request_id={self.request_id})" if self.request_id else ""
        code = f" {self.error_code}" if self.error_code else ""
        fields = self.field_errors()
        if fields:
            named = "; ".join(f"{field}: {message}" for field, message in fields[:MAX_FIELDS_SHOWN])
            more = len(fields) - MAX_FIELDS_SHOWN
            suffix = f" ({named}{f'; and {more} more' if more > 0 else ''})" + suffix
        return f"[{self.code}] HTTP {self.status}{code}: {self.message}{suffix}"

    def field_errors(self) -> list[tuple[str, str]]:
        """``(field, message)`` of each detail that names a field (a 422's ``body.duration_ms``)."""
        return [
            (str(d["field"]), str(d.get("message", ""))) for d in self.details if isinstance(d, dict) and d.get("field")
        ]


class BadRequestError(HTTPError):
    status = 400


class AuthenticationError(HTTPError):
    status = 401


class PermissionDenied(HTTPError):
    status = 403


class NotFoundError(HTTPError):
    status = 404


class ConflictError(HTTPError):
    status = 409


class PayloadTooLargeError(HTTPError):
    status = 413


class ValidationError(HTTPError):
    status = 422


class RateLimitedError(HTTPError):
    """429: the engine is past its rate limit (``error_code`` ``rate_limited``) or the stage's throttle.

    ``retry_after`` is the server's ``Retry-After`` in seconds; the client's retries wait that long.
    """

    status = 429


RateLimited = RateLimitedError  # the name the engines' docs use


class ServerError(HTTPError):
    status = 500


class UnavailableError(ServerError):
    status = 503


class ActionDenied(PermissionDenied):
    """``actions.require``: the control plane answered ``allowed: false``; ``reason`` is its reason."""

    code = ACTION_DENIED

    def __init__(self, decision: Any):
        reason = decision.reason or "not allowed"
        super().__init__(
            403,
            f"{decision.engine_id} may not {decision.action_type} on {decision.platform}: {reason}",
            error_code=decision.rule or "denied",
            request_id=decision.request_id,
        )
        self.decision = decision
        self.reason = reason
        self.rule = decision.rule


_BY_STATUS: dict[int, type[HTTPError]] = {
    cls.status: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDenied,
        NotFoundError,
        ConflictError,
        PayloadTooLargeError,
        ValidationError,
        RateLimitedError,
        UnavailableError,
    )
}


def http_error_class(status: int) -> type[HTTPError]:
    """The typed class for an error status (``ServerError`` for other 5xx, ``HTTPError`` otherwise)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else HTTPError
