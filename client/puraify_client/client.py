"""The clients: ``ControlPlane`` (async, one connection pool) and ``SyncControlPlane`` (its facade)."""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import SecretStr

from puraify_client.errors import InvalidArgumentError
from puraify_client.services import REGISTRY
from puraify_client.services.actions import Actions
from puraify_client.services.config import Config
from puraify_client.services.engines import Engines
from puraify_client.services.env import Environments
from puraify_client.services.monitoring import Monitoring
from puraify_client.services.plan import Plan
from puraify_client.services.platforms import Platforms
from puraify_client.transport import RetryPolicy, Settings, Transport, configure_logging, drive


class _Plane:
    """What both clients share: settings from the arguments or the environment, one transport, the services."""

    _blocking: bool = False

    def __init__(
        self,
        base_url: str | None = None,
        engine_id: str | None = None,
        engine_key: str | SecretStr | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | httpx.Client | None = None,
        socket_path: str | None = None,
    ):
        configure_logging()
        settings = Settings.resolve(
            base_url,
            engine_id,
            engine_key,
            socket_path=socket_path,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._use(Transport(settings, retry or RetryPolicy(), http, blocking=self._blocking))

    def _use(self, transport: Transport) -> None:
        self.transport = transport
        for name, service in REGISTRY.items():
            setattr(self, name, self._bind(service(transport)))

    def with_options(self, *, timeout: float | None = None, max_retries: int | None = None) -> Any:
        """This client with another timeout (seconds, every phase) or retry count, on the same pool.

        ``await cp.with_options(timeout=1, max_retries=0).actions.check(...)``: closing the copy
        leaves the pool open; close the original when done.
        """
        if timeout is not None and timeout <= 0:
            raise InvalidArgumentError("with_options(): timeout must be positive")
        if max_retries is not None and max_retries < 0:
            raise InvalidArgumentError("with_options(): max_retries must be 0 or more")
        derived = copy.copy(self)
        derived._use(self.transport.derive(timeout=timeout, max_retries=max_retries))
        return derived

    def _bind(self, service: Any) -> Any:
        return service

    @property
    def engine_id(self) -> str | None:
        return self.transport.settings.engine_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transport.settings.base_url!r}, engine_id={self.engine_id!r})"


class ControlPlane(_Plane):
    """The async client. Use it as ``async with ControlPlane(url, engine_id, engine_key) as cp:``.

    Arguments left out come from ``PURAIFY_URL``, ``PURAIFY_ENGINE_ID`` and ``PURAIFY_ENGINE_KEY``.
    The key may be a ``str`` or a ``SecretStr``. ``socket_path=`` (or a ``unix:///path`` URL)
    talks over a Unix domain socket. Timeouts default to 5 s to connect and 10 s to read; safe
    and idempotent calls are retried 3 times (``with_options`` changes both per call site).
    Pass ``http`` to supply your own ``httpx.AsyncClient`` (a proxy, a ``MockTransport``).
    """

    engines: Engines
    actions: Actions
    platforms: Platforms
    config: Config
    monitoring: Monitoring
    env: Environments
    plan: Plan

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.transport.aclose()

    async def __aenter__(self) -> ControlPlane:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _SyncService:
    """A service module whose coroutines return results and whose async iterators are plain ones."""

    def __init__(self, service: Any):
        self._service = service

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._service, name)
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target)
            def call(*args: Any, **kwargs: Any) -> Any:
                return drive(target(*args, **kwargs))

            return call
        if callable(target) and name.startswith("iter_"):

            @functools.wraps(target)
            def iterate(*args: Any, **kwargs: Any) -> Iterator[Any]:
                pages = target(*args, **kwargs)
                while True:
                    try:
                        yield drive(anext(pages))
                    except StopAsyncIteration:
                        return

            return iterate
        return target

    def __repr__(self) -> str:
        return f"<sync {self._service!r}>"


class SyncControlPlane(_Plane):
    """The same client for code that is not async: ``with SyncControlPlane(...) as cp: cp.actions.check(...)``.

    Same arguments, services, timeouts, retries and errors as ``ControlPlane`` (the very same
    code, on an ``httpx.Client``); iterators are plain iterators. ``actions.guard`` is for
    coroutines: sync code calls ``actions.require``. Safe to share between threads.
    """

    _blocking = True

    engines: Any
    actions: Any
    platforms: Any
    config: Any
    monitoring: Any
    env: Any
    plan: Any

    def _bind(self, service: Any) -> Any:
        return _SyncService(service)

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.http.close()

    def __enter__(self) -> SyncControlPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def service_names() -> list[str]:
    """The names of the registered service modules (``cp.<name>``)."""
    return sorted(REGISTRY)
