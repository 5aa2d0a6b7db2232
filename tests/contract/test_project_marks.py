"""ProjectMarks: one mark per project, listed in id order by prefix, page after page, never by a scan."""

from __future__ import annotations

import pytest

from puraify.store.project_marks import DynamoProjectMarks
from tests.fakes.project_marks import MemoryProjectMarks


@pytest.fixture(params=["AggregatesTable", "EnvironmentsTable"])
def store(side: str, resources, request) -> DynamoProjectMarks | MemoryProjectMarks:
    if side == "fake":
        return MemoryProjectMarks()
    return DynamoProjectMarks(resources(request.param).name(request.param))


def _all(store, prefix: str, limit: int) -> list[str]:
    seen, after = [], None
    for _ in range(20):
        page, more = store.page(prefix, after, limit)
        assert len(page) <= limit
        seen += page
        if not more or not page:
            return seen
        after = page[-1]
    raise AssertionError("the pages never ended")


def test_marks_list_once_each_in_id_order(store) -> None:
    store.mark(["shop", "blog", "shop"])
    store.mark(["blog", "api"])
    assert _all(store, "", 10) == ["api", "blog", "shop"]


def test_a_prefix_lists_only_the_ids_that_start_with_it(store) -> None:
    store.mark(["shop-eu", "shop-us", "shopping", "blog", "Shop-x"])
    assert _all(store, "shop-", 10) == ["shop-eu", "shop-us"]
    assert _all(store, "x", 10) == []


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_follow_each_other_without_gaps_or_repeats(store, limit) -> None:
    ids = [f"p{n:02d}" for n in range(7)]
    store.mark(reversed(ids))
    assert _all(store, "p", limit) == ids


def test_known_says_which_ids_are_marked(store) -> None:
    store.mark(["a", "b"])
    assert store.known(["b", "c", "a"]) == {"a", "b"}
    assert store.known([]) == set()
