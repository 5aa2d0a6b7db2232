"""What a service module is: a small class bound to the client's transport, registered by name."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ValidationError as ModelValidationError

from puraify_client.errors import InvalidArgumentError
from puraify_client.transport import Transport

REGISTRY: dict[str, type[Service]] = {}


def _argument_error(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception | None:
    try:
        inspect.signature(method).bind(*args, **kwargs)
    except TypeError as error:
        return InvalidArgumentError(str(error))
    return None


def _checked(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` raising the SDK's ``InvalidArgumentError`` for wrong arguments (nothing is sent).

    Arguments are only inspected once a call failed, so a correct call costs nothing extra.
    """
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                pending = method(*args, **kwargs)  # binding happens here, before the coroutine runs
            except TypeError as error:
                raise InvalidArgumentError(str(error)) from None  # names the method and the argument
            try:
                return await pending
            except ModelValidationError as error:  # a request model built from the arguments
                raise InvalidArgumentError.from_validation(method.__qualname__, error) from None

        return call

    @functools.wraps(method)
    def plain(*args: Any, **kwargs: Any) -> Any:  # iter_* and guard
        try:
            return method(*args, **kwargs)
        except TypeError:
            found = _argument_error(method, args, kwargs)
            if found is None:
                raise
            raise found from None

    return plain


class Service:
    """Base of ``cp.<name>``. A subclass names itself and calls ``self.transport``.

    Its public coroutines raise ``InvalidArgumentError`` for wrong arguments, never ``TypeError``
    or pydantic's ``ValidationError`` (response mismatches are ``UnexpectedError``, in the transport).
    """

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, value in list(vars(cls).items()):
            if not attr.startswith("_") and inspect.isfunction(value):
                setattr(cls, attr, _checked(value))

    def __init__(self, transport: Transport):
        self.transport = transport

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.transport.settings.base_url}>"


def register[S: type[Service]](cls: S) -> S:
    """Class decorator: ``cp.<cls.name>`` becomes an instance of ``cls`` on every client."""
    REGISTRY[cls.name] = cls
    return cls


def segment(value: str) -> str:
    """A path parameter, percent-encoded so it can never add a path segment."""
    return quote(str(value), safe="")


async def paginate[T](
    fetch: Callable[[Any], Awaitable[Any]], items: str, cursor: str = "next_cursor"
) -> AsyncIterator[T]:
    """Follow the page ``cursor`` (``next_cursor`` unless named) from page to page, yielding the items of each page."""
    position: Any = None
    while True:
        page = await fetch(position)
        for item in getattr(page, items):
            yield item
        position = getattr(page, cursor, None)
        if position is None or position == "":
            return
