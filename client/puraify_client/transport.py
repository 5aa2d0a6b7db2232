"""One request to the control plane: credentials, timeouts, bounded retries, and error mapping.

Retries are decided per call by its ``retry`` safety:

- ``Safety.SAFE`` (reads, checks, PUTs that replace, ingest with ``event_id``): retried on
  connection failures, timeouts, 429, 502, 503 and 504.
- ``Safety.IDEMPOTENT`` (registration, rotation, alerts, Environment Manager changes): POSTs the
  control plane runs at most once per ``Idempotency-Key``; retried like safe calls, with the same
  key on every attempt, so a retry after a lost answer gets the first answer.
- ``Safety.UNSAFE`` (revocation, environment config): retried only when the request certainly
  did not take effect: it never left (connect failure or connect timeout) or the server refused
  it before doing anything (429). A read timeout or a dropped connection leaves the outcome
  unknown, so it is raised at once.

Every POST carries an ``Idempotency-Key`` (a fresh uuid per call, the same on its retries).

Waits grow exponentially with full jitter, capped, and a ``Retry-After`` header (seconds or an
HTTP date) replaces the computed wait when it is within ``max_retry_after``.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import email.utils
import enum
import json
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as ModelValidationError

from puraify_client import API_VERSION, __version__
from puraify_client import errors as e

M = TypeVar("M", bound=BaseModel)

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
SOCKET_HOST = "http://localhost"  # the Host of requests sent over a Unix domain socket

log = logging.getLogger("puraify_client")


class Safety(enum.Enum):
    SAFE = "safe"
    IDEMPOTENT = "idempotent"
    UNSAFE = "unsafe"


SAFE = Safety.SAFE
IDEMPOTENT = Safety.IDEMPOTENT
UNSAFE = Safety.UNSAFE


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """``PURAIFY_LOG=debug`` (or ``info``) prints the SDK's log lines on stderr; off by default.

    The lines name method, path, status, duration and attempt: never a header, a body or a key.
    """
    level = (os.environ if environ is None else environ).get("PURAIFY_LOG", "").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING") or any(getattr(h, "_puraify", False) for h in log.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler._puraify = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(level)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a safe call is retried. ``retries`` excludes the first attempt."""

    retries: int = 3
    backoff_base: float = 0.2
    backoff_max: float = 5.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    blocking_sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return retry_after
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Settings:
    """Where the control plane is and who is calling. The key is kept out of every repr."""

    base_url: str
    engine_id: str | None = None
    engine_key: str | None = field(default=None, repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    socket_path: str | None = None

    @classmethod
    def resolve(
        cls,
        base_url: str | None = None,
        engine_id: str | None = None,
        engine_key: str | SecretStr | None = None,
        *,
        socket_path: str | None = None,
        environ: Mapping[str, str] | None = None,
        **timeouts: float,
    ) -> Settings:
        """Arguments first, then ``PURAIFY_URL``, ``PURAIFY_ENGINE_ID`` and ``PURAIFY_ENGINE_KEY``.

        The key may be a ``str`` or a ``SecretStr`` (as ``register`` and ``rotate`` return it).
        A ``unix:///path/to.sock`` URL, or ``socket_path=``, talks over a Unix domain socket.
        """
        env = os.environ if environ is None else environ
        url = base_url or env.get("PURAIFY_URL")
        if url and url.startswith("unix://"):
            socket_path, url = socket_path or url.removeprefix("unix://"), None
        if socket_path:
            url = url or SOCKET_HOST
        if not url:
            raise e.ConfigurationError("no control plane URL: pass base_url or set PURAIFY_URL")
        if isinstance(engine_key, SecretStr):
            engine_key = engine_key.get_secret_value()
        for name, value in (("engine_id", engine_id), ("engine_key", engine_key), ("socket_path", socket_path)):
            if value is not None and not isinstance(value, str):
                raise e.ConfigurationError(f"{name} must be a str, not {type(value).__name__}")
        return cls(
            base_url=url.rstrip("/"),
            engine_id=engine_id or env.get("PURAIFY_ENGINE_ID") or None,
            engine_key=engine_key or env.get("PURAIFY_ENGINE_KEY") or None,
            socket_path=socket_path,
            **timeouts,
        )

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout, write=self.read_timeout, pool=5.0)


class EngineAuth(httpx.Auth):
    """Adds ``X-Engine-ID`` and ``X-Engine-Key`` to each request; the key never shows in a repr."""

    def __init__(self, engine_id: str | None, engine_key: str | None):
        self._headers = {
            name: value for name, value in (("X-Engine-ID", engine_id), ("X-Engine-Key", engine_key)) if value
        }

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers.update(self._headers)
        yield request

    def __repr__(self) -> str:
        return f"EngineAuth(engine_id={self._headers.get('X-Engine-ID')!r})"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (ValueError, TypeError, OverflowError):
        return None  # unreadable: the computed backoff applies


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError as error:
        raise e.InvalidJSONError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} with a body "
            f"that is not JSON ({response.headers.get('content-type', 'no content type')})",
            request_id=response.headers.get("apigw-requestid"),
        ) from error


def _http_error(response: httpx.Response) -> e.HTTPError:
    try:
        payload = json.loads(response.content) if response.content else {}
    except ValueError:
        payload = {}
    envelope = payload.get("error") if isinstance(payload, dict) else None
    envelope = envelope if isinstance(envelope, dict) else {}
    request_id = (payload.get("request_id") if isinstance(payload, dict) else None) or response.headers.get(
        "apigw-requestid"
    )
    details = envelope.get("details")
    return e.http_error_class(response.status_code)(
        response.status_code,
        str(envelope.get("message") or response.reason_phrase or "error"),
        error_code=str(envelope.get("code") or ""),
        details=details if isinstance(details, list) else [],
        request_id=request_id,
        retry_after=_retry_after(response),
    )


def _transport_error(error: httpx.HTTPError, method: str, path: str) -> e.PuraifyClientError:
    where = f"{method} {path}"
    if isinstance(error, httpx.ConnectTimeout):
        return e.ConnectTimeoutError(f"{where}: timed out connecting to the control plane")
    if isinstance(error, httpx.PoolTimeout):
        return e.RequestTimeout(f"{where}: no free connection in the pool in time", phase="pool")
    if isinstance(error, httpx.WriteTimeout):
        return e.RequestTimeout(f"{where}: timed out sending the request", phase="write")
    if isinstance(error, httpx.TimeoutException):
        return e.ReadTimeoutError(f"{where}: timed out waiting for the response")
    if isinstance(error, httpx.UnsupportedProtocol):
        return e.UnsupportedProtocolError(f"{where}: the URL must start with http:// or https://")
    if isinstance(error, httpx.ConnectError):
        return e.ConnectionFailed(f"{where}: could not connect to the control plane", sent=False)
    if isinstance(error, (httpx.NetworkError, httpx.RemoteProtocolError)):
        return e.ConnectionFailed(f"{where}: the connection failed during the request", sent=True)
    return e.UnexpectedError(f"{where}: {type(error).__name__}")


def _never_sent(error: e.PuraifyClientError) -> bool:
    if isinstance(error, e.RequestTimeout):
        return error.phase in ("connect", "pool")
    return isinstance(error, e.ConnectionFailed) and not error.sent


def _retryable(error: e.PuraifyClientError, safety: Safety) -> bool:
    repeatable = safety is not UNSAFE
    if isinstance(error, e.HTTPError):
        if error.status == 409 and error.error_code == "idempotency_in_progress":
            return True  # the first attempt is still running: its answer comes with the next try
        return error.status == 429 or (repeatable and error.status in RETRYABLE_STATUS)
    if isinstance(error, (e.RequestTimeout, e.ConnectionFailed)):
        return repeatable or _never_sent(error)
    return False


class Transport:
    """The connection pool and the request loop shared by every service module.

    With ``blocking=True`` it drives an ``httpx.Client`` instead of an ``httpx.AsyncClient``: its
    coroutines then never suspend, so the sync facade runs them to completion without an event
    loop (``drive``), sharing every line of the request, retry and error logic.
    """

    def __init__(
        self,
        settings: Settings,
        retry: RetryPolicy,
        http: httpx.AsyncClient | httpx.Client | None = None,
        *,
        blocking: bool = False,
    ):
        self.settings = settings
        self.retry = retry
        self.blocking = blocking
        self.timeout: httpx.Timeout | None = None  # per-client override (``with_options``)
        self.owns_pool = True
        headers = {
            "User-Agent": f"puraify-client/{__version__}",
            "Accept": "application/json",
            "Puraify-Version": API_VERSION,
        }
        if http is None:
            if blocking:
                sync = httpx.HTTPTransport(uds=settings.socket_path) if settings.socket_path else None
                http = httpx.Client(base_url=settings.base_url, timeout=settings.timeout(), transport=sync)
            else:
                transport = httpx.AsyncHTTPTransport(uds=settings.socket_path) if settings.socket_path else None
                http = httpx.AsyncClient(base_url=settings.base_url, timeout=settings.timeout(), transport=transport)
        if blocking != isinstance(http, httpx.Client):
            raise e.ConfigurationError("the sync client needs an httpx.Client, the async one an httpx.AsyncClient")
        self.http: Any = http
        self.http.headers.update(headers)
        self.http.auth = EngineAuth(settings.engine_id, settings.engine_key)

    def derive(self, *, timeout: float | None = None, max_retries: int | None = None) -> Transport:
        """A transport on the same pool with other options; closing it leaves the pool open."""
        derived = copy.copy(self)
        derived.owns_pool = False
        if timeout is not None:
            derived.timeout = httpx.Timeout(timeout)
        if max_retries is not None:
            derived.retry = dataclasses.replace(self.retry, retries=max_retries)
        return derived

    async def aclose(self) -> None:
        if not self.owns_pool:
            return
        if self.blocking:
            self.http.close()
        else:
            await self.http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        if self.blocking:
            return self.http.request(method, path, **kwargs)
        return await self.http.request(method, path, **kwargs)

    async def _sleep(self, seconds: float) -> None:
        if self.blocking:
            self.retry.blocking_sleep(seconds)
        else:
            await self.retry.sleep(seconds)

    async def raw(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one call (retrying as its safety allows) and return the decoded JSON body."""
        return _decode(await self._exchange(method, path, safety=safety, json_body=json_body, params=params))

    async def get_if_changed(self, path: str, model: type[M], etag: str | None) -> tuple[M | None, str | None]:
        """A retried GET with ``If-None-Match: etag``: ``(None, etag)`` when the server's copy is the
        same (304), else the new body and its ``ETag``."""
        extra = {"If-None-Match": etag} if etag else None
        response = await self._exchange("GET", path, safety=SAFE, headers=extra)
        if response.status_code == 304:
            return None, response.headers.get("etag", etag)
        try:
            return model.model_validate(_decode(response)), response.headers.get("etag")
        except ModelValidationError:
            raise e.UnexpectedError(f"GET {path}: the response does not match {model.__name__}") from None

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        content = None if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
        sent = {**({"Content-Type": "application/json"} if content is not None else {}), **(headers or {})}
        if method == "POST":
            sent.setdefault("Idempotency-Key", uuid.uuid4().hex)  # one per call: every retry repeats it
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response = await self._send(method, path, content=content, params=query, headers=sent)
            except httpx.HTTPError as error:
                failure: e.PuraifyClientError = _transport_error(error, method, path)
            else:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "%s %s -> %d in %.1f ms (attempt %d)",
                        method,
                        path,
                        response.status_code,
                        (time.perf_counter() - started) * 1000,
                        attempt + 1,
                    )
                if response.status_code < 400:
                    return response
                failure = _http_error(response)
            attempt += 1
            retry_after = failure.retry_after if isinstance(failure, e.HTTPError) else None
            if (
                attempt > self.retry.retries
                or not _retryable(failure, safety)
                or (retry_after is not None and retry_after > self.retry.max_retry_after)
            ):
                log.debug("%s %s failed: %s", method, path, failure)
                raise failure
            wait = self.retry.delay(attempt, retry_after)
            log.info("%s %s: retry %d in %.2f s after %s", method, path, attempt, wait, failure)
            await self._sleep(wait)

    async def call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        safety: Safety,
        body: BaseModel | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> M:
        """One call whose request and response are pydantic models."""
        payload = body.model_dump(mode="json", exclude_none=True) if body is not None else None
        data = await self.raw(method, path, safety=safety, json_body=payload, params=params)
        return self.parsed(method, path, model, data)

    @staticmethod
    def parsed(method: str, path: str, model: type[M], data: Any) -> M:
        """A decoded response body as ``model`` (``UnexpectedError`` naming the fields that do not match)."""
        try:
            return model.model_validate(data)
        except ModelValidationError as error:
            fields = ", ".join(".".join(str(p) for p in err["loc"]) or "body" for err in error.errors()[:5])
            raise e.UnexpectedError(
                f"{method} {path}: the response does not match {model.__name__} (fields: {fields})"
            ) from None


def drive[T](awaitable: Awaitable[T]) -> T:
    """Run a coroutine of a blocking transport to its end, without an event loop."""
    step = awaitable.__await__()
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise RuntimeError("a blocking call suspended; async-only code cannot run in the sync client")
