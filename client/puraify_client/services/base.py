"""What a service module is: a small class bound to the client's transport, registered by name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import quote

from puraify_client.transport import Transport

REGISTRY: dict[str, type[Service]] = {}


class Service:
    """Base of ``cp.<name>``. A subclass names itself and calls ``self.transport``."""

    name: ClassVar[str]

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
