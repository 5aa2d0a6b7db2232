"""Every error the API can answer with, declared once; ``puraify.http`` maps them to responses."""

from __future__ import annotations

from typing import Any


class PuraifyError(Exception):
    """Base of all errors that reach a caller. ``code`` is stable, ``message`` is for people."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code:
            self.code = code


class BadRequestError(PuraifyError):
    status = 400
    code = "bad_request"


class UnauthorizedError(PuraifyError):
    status = 401
    code = "unauthorized"


class ForbiddenError(PuraifyError):
    status = 403
    code = "forbidden"


class NotFoundError(PuraifyError):
    status = 404
    code = "not_found"


class ConflictError(PuraifyError):
    status = 409
    code = "conflict"


class PayloadTooLargeError(PuraifyError):
    status = 413
    code = "payload_too_large"


class ValidationFailedError(PuraifyError):
    status = 422
    code = "validation_failed"


class ThrottledError(PuraifyError):
    status = 429
    code = "throttled"


class UnavailableError(PuraifyError):
    """A dependency (the store) failed: the request could not be decided. Callers may retry."""

    status = 503
    code = "unavailable"


def _field(loc: Any) -> str:
    return ".".join(str(part) for part in loc) if isinstance(loc, (list, tuple)) else str(loc)


def validation_error(errors: list[dict[str, Any]]) -> PuraifyError:
    """Pydantic's errors as field-level details: field, message and type, never the input."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return BadRequestError("the request body is not valid JSON", code="invalid_json")
    details = [
        {"field": _field(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")} for e in errors
    ]
    return ValidationFailedError(f"{len(details)} invalid field(s)", details=details)
