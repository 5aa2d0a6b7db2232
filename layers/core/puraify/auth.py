"""Engine identity: key generation, hashing, and authenticating a request's credentials.

Keys carry 256 random bits, so a single SHA-256 is the right hash: there is nothing to
brute-force that a slow hash would protect (slow hashes exist for low-entropy passwords).
Comparison is constant-time. Unknown engine, revoked engine, expired key, malformed key and wrong
key are one 401; a malformed key (not ``pfk_`` and 36 to 124 URL-safe characters) is refused
before any store read, after the same hash and comparison as a wrong key.

After the key: the engine's rate limit (429, ``puraify.ratelimit``), then its suspension (403).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from puraify.cache import TtlCache
from puraify.clock import now
from puraify.errors import ForbiddenError, UnauthorizedError
from puraify.ratelimit import EVENTS, Limit, Quota, RateLimiter

KEY_PREFIX = "pfk_"
ADMIN_SCOPE = "admin"
# Checking on behalf of another engine (``POST /actions/check`` naming another ``engine_id``).
ON_BEHALF_SCOPE = "checks:on_behalf"
ALL_PROJECTS = "*"
MAX_HEADER_LENGTH = 256
# Keys this plane issues are ``pfk_`` and 43 characters; operator-chosen keys (PURAIFY_ADMIN_KEY) may be longer.
WELL_FORMED_KEY = re.compile(r"pfk_[A-Za-z0-9_-]{36,124}")
SUSPENDED = "engine_suspended"
MAX_EVENTS_PER_BATCH = 500  # an ingest request's most events: the events bucket always holds one full batch
_new_limit = tuple.__new__  # a Limit without the NamedTuple constructor's keyword parsing (the warm path)


def new_key() -> str:
    """A fresh engine key: 256 random bits, URL-safe, recognisable by its prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def well_formed(key: str) -> bool:
    """Whether ``key`` has the shape of an engine key (checked before any store read)."""
    return WELL_FORMED_KEY.fullmatch(key) is not None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    engine_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    permissions: dict[str, list[str]] = field(default_factory=dict)
    projects: frozenset[str] = field(default_factory=frozenset)
    # Authenticated with the key a rotation replaced (valid for its grace period): it may act as the
    # engine, but not rotate, nor change engines, grants, platforms or flags.
    superseded_key: bool = False
    # Suspended by an admin: every call answers 403 ``engine_suspended`` (a check is audited as denied first).
    suspended: bool = False
    quota: Quota | None = None  # the engine's rate limit after this request (the RateLimit-* headers)
    # The API version the engine's requests are served in when they name none (puraify.versions).
    api_version: str | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes

    def has_scope(self, scope: str) -> bool:
        return self.is_admin or scope in self.scopes

    def require(self, scope: str) -> None:
        """Raise 403 unless the caller holds ``scope`` (admin holds every scope)."""
        if not self.has_scope(scope):
            raise ForbiddenError(f"this call needs the '{scope}' scope", code="missing_scope")

    @property
    def has_all_projects(self) -> bool:
        return ALL_PROJECTS in self.projects

    def has_project(self, project_id: str) -> bool:
        return self.has_all_projects or project_id in self.projects

    def require_project(self, project_id: str) -> None:
        """Raise 403 unless the caller holds a grant for ``project_id`` (or ``"*"``).

        Grants are separate from scopes: ``admin`` holds every scope but only the projects it is granted.
        """
        if not self.has_project(project_id):
            raise ForbiddenError(
                f"engine '{self.engine_id}' is not granted project '{project_id}'", code="project_not_granted"
            )

    def require_projects(self, project_ids: list[str]) -> None:
        """403 ``project_not_granted`` for a whole batch if any item names an ungranted project.

        All or nothing, so a batch is never half written; ``details`` names each offending item by index.
        """
        denied = [(i, p) for i, p in enumerate(project_ids) if not self.has_project(p)]
        if denied:
            raise ForbiddenError(
                f"engine '{self.engine_id}' is not granted project(s) {', '.join(sorted({p for _, p in denied}))}",
                code="project_not_granted",
                details=[{"index": i, "project_id": p, "message": "project not granted"} for i, p in denied[:50]],
            )

    def require_all_projects(self, hint: str = "") -> None:
        """Raise 403 unless the caller holds ``"*"``: for reads that span projects."""
        if not self.has_all_projects:
            raise ForbiddenError(
                f"engine '{self.engine_id}' is not granted every project{hint}", code="project_not_granted"
            )


class Credentials(Protocol):
    """What authentication reads of an engine's record (Engine Control's ``EngineRecord``)."""

    @property
    def engine_id(self) -> str: ...
    @property
    def key_hash(self) -> str: ...
    @property
    def previous_key_hash(self) -> str | None: ...
    @property
    def previous_key_expires_at(self) -> float | None: ...
    @property
    def status(self) -> str: ...
    @property
    def api_version(self) -> str | None: ...
    @property
    def scopes(self) -> list[str]: ...
    @property
    def permissions(self) -> dict[str, list[str]]: ...
    @property
    def projects(self) -> list[str]: ...
    @property
    def key_expires_at(self) -> float | None: ...
    @property
    def suspended(self) -> object | None: ...
    @property
    def rate_limit(self) -> RateLimitSpec | None: ...


class RateLimitSpec(Protocol):
    @property
    def per_second(self) -> float: ...
    @property
    def burst(self) -> int: ...


@dataclass(frozen=True)
class _Nobody:
    """The record compared against for an unknown engine, so that timing does not tell which ids exist."""

    engine_id: str = "-"
    key_hash: str = "0" * 64
    previous_key_hash: str | None = None
    previous_key_expires_at: float | None = None
    status: str = "revoked"
    api_version: str | None = None
    scopes: list[str] = field(default_factory=list)
    permissions: dict[str, list[str]] = field(default_factory=dict)
    projects: list[str] = field(default_factory=list)
    key_expires_at: float | None = None
    suspended: object | None = None
    rate_limit: RateLimitSpec | None = None


def key_matches(record: Credentials, key: str, at: float) -> bool:
    """Whether ``key`` is the engine's current key, or its previous one within the grace period."""
    return key_match(record, key, at) is not None


def key_match(record: Credentials, key: str, at: float) -> str | None:
    """``"current"``, ``"previous"`` (the key a rotation replaced, within its grace period), or None."""
    digest = hash_key(key)
    if hmac.compare_digest(digest, record.key_hash):
        return "current"
    if record.previous_key_hash and (record.previous_key_expires_at or 0) > at:
        return "previous" if hmac.compare_digest(digest, record.previous_key_hash) else None
    return None


_NOBODY = _Nobody()


class Authenticator[R: Credentials]:
    """Resolves ``X-Engine-ID`` / ``X-Engine-Key`` to a Principal, with a bounded-staleness cache."""

    def __init__(
        self,
        load_engine: Callable[[str], R | None],
        cache: TtlCache[str, R | None],
        limiter: RateLimiter | None = None,
        default_limit: Limit = Limit(100.0, 250),
        default_events_per_second: float = 1000.0,
    ):
        self._load = load_engine
        self.cache = cache
        self.limiter = limiter
        self.default_limit = default_limit
        self.default_events_per_second = default_events_per_second

    def engine(self, engine_id: str) -> R | None:
        """The engine's record as this process currently sees it (cached)."""
        return self.cache.get(engine_id, self._load)

    def known(self, engine_id: str) -> bool:
        """Whether this process has just seen a record for ``engine_id`` (after ``authenticate``); never reads."""
        return self.cache.peek(engine_id) is not None

    def limit_of(self, record: Credentials) -> Limit:
        """The engine's own rate limit, or the stack's default (no allocation for the default)."""
        own = record.rate_limit
        return self.default_limit if own is None else _new_limit(Limit, (own.per_second, own.burst))

    def authenticate(self, engine_id: str | None, key: str | None) -> Principal:
        """The caller, or 401; then 429 ``rate_limited`` past its limit (RateLimitedError).

        A suspended engine is returned with ``suspended`` set: the edge answers 403 (after the check
        path has audited its checks as denied).
        """
        if not engine_id or not key or len(engine_id) > MAX_HEADER_LENGTH or len(key) > MAX_HEADER_LENGTH:
            raise UnauthorizedError("missing or invalid engine credentials")
        at = now()
        if not well_formed(key):
            key_match(_NOBODY, key, at)  # the same work as a wrong key, without the store read
            raise UnauthorizedError("missing or invalid engine credentials")
        record = self.engine(engine_id)
        # Hash and compare even for unknown engines, so timing does not tell which ids exist.
        matched = key_match(record or _NOBODY, key, at)
        if record is None or record.status != "active" or matched is None:
            raise UnauthorizedError("missing or invalid engine credentials")
        if matched == "current" and record.key_expires_at is not None and record.key_expires_at <= at:
            raise UnauthorizedError("missing or invalid engine credentials")
        quota = None if self.limiter is None else self.limiter.take(record.engine_id, self.limit_of(record))
        return Principal(
            engine_id=record.engine_id,
            scopes=frozenset(record.scopes),
            permissions=record.permissions,
            projects=frozenset(record.projects),
            superseded_key=matched == "previous",
            suspended=record.suspended is not None,
            quota=quota,
            api_version=record.api_version,
        )

    def charge(self, principal: Principal, cost: int) -> Quota | None:
        """Take ``cost`` more tokens for the caller (the rest of a batch); RateLimitedError when short.
        Returns the quota left (None without a limiter)."""
        if self.limiter is None or cost <= 0:
            return principal.quota
        record = self.cache.peek(principal.engine_id)
        limit = self.limit_of(record) if record is not None else self.default_limit
        return self.limiter.take(principal.engine_id, limit, cost)

    def charge_events(self, principal: Principal, events: int) -> None:
        """Take ``events`` from the caller's ingest-events bucket (``events_per_second``, burst the same but at
        least one full batch of 500); RateLimitedError when short."""
        if self.limiter is None or events <= 0:
            return
        record = self.cache.peek(principal.engine_id)
        own = getattr(record.rate_limit, "events_per_second", None) if record and record.rate_limit else None
        rate = own or self.default_events_per_second
        self.limiter.take(EVENTS + principal.engine_id, Limit(rate, max(int(rate), MAX_EVENTS_PER_BATCH)), events)

    def require_not_suspended(self, principal: Principal) -> None:
        """403 ``engine_suspended`` for a suspended caller."""
        if principal.suspended:
            raise ForbiddenError(
                f"engine '{principal.engine_id}' is suspended: an admin may reinstate it", code=SUSPENDED
            )
