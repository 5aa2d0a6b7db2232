"""A page of the items that pass a filter, read from a store that pages by key, newest first.

The store answers ``limit`` items per read; the filter (a status, say) may keep few of them, so up to
``max_pages`` reads fill one page. Past that the answer is short, and its cursor says where to go on:
a caller never loses items, it only asks again.
"""

from __future__ import annotations

from collections.abc import Callable


def filtered_page[T](
    read: Callable[[str | None], list[T]],
    keep: Callable[[T], bool],
    key: Callable[[T], str],
    limit: int,
    cursor: str | None,
    max_pages: int,
) -> tuple[list[T], str | None]:
    """Up to ``limit`` items that ``keep`` keeps, from ``read(before)`` pages after ``cursor``; and the next cursor
    (``None``: nothing more)."""
    found: list[T] = []
    before, more = cursor, False
    for _ in range(max_pages):
        page = read(before)
        found += [item for item in page if keep(item)]
        if len(page) < limit or len(found) >= limit:
            more = len(page) == limit or len(found) > limit
            break
        before = key(page[-1])
    else:
        more = True
    shown = found[:limit]
    next_cursor = key(shown[-1]) if more and shown else (before if more else None)
    return shown, next_cursor
