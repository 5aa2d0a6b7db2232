"""filtered_page: pages of filtered items read from a store that pages by key lose nothing and repeat nothing."""

from __future__ import annotations

import pytest

from puraify.paging import filtered_page

ITEMS = [f"{n:03d}" for n in range(100, 0, -1)]  # newest first, as the stores answer


def read_after(before: str | None, limit: int) -> list[str]:
    start = 0 if before is None else ITEMS.index(before) + 1
    return ITEMS[start : start + limit]


@pytest.mark.parametrize(("limit", "max_pages"), [(1, 10), (5, 1), (5, 10), (7, 2), (50, 10)])
@pytest.mark.parametrize("modulo", [1, 3, 40])
def test_following_the_cursor_gives_every_kept_item_once_in_order(limit, max_pages, modulo):
    def keep(item: str) -> bool:
        return int(item) % modulo == 0

    got: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        page, cursor = filtered_page(lambda b: read_after(b, limit), keep, str, limit, cursor, max_pages)
        assert len(page) <= limit
        got += page
        if cursor is None:
            break
    assert got == [item for item in ITEMS if keep(item)]


def test_a_full_page_of_kept_items_says_there_may_be_more():
    page, cursor = filtered_page(lambda b: read_after(b, 10), lambda _: True, str, 10, None, 10)
    assert page == ITEMS[:10] and cursor == ITEMS[9]
