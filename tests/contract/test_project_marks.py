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


def _write_unmarked(aws, table: str, logical_id: str, projects: list[str]) -> None:
    """Items as the stack wrote them before marks existed: project records, or event totals."""
    dynamodb = aws.client("dynamodb")
    for n, project in enumerate(projects):
        if logical_id == "EnvironmentsTable":
            item = {"pk": {"S": f"PROJECT#{project}"}, "sk": {"S": "PROJECT"}}
            other = {"pk": {"S": f"PROJECT#{project}"}, "sk": {"S": "ENV#production"}}
        else:
            item = {"pk": {"S": f"AG#{project}"}, "sk": {"S": f"T#2026-12-0{n % 3 + 1}T00:00"}}
            other = {"pk": {"S": f"AG#{project}"}, "sk": {"S": "F#2026-12-01T00:00#fp"}}
        for each in (item, other, {**item, "sk": {"S": item["sk"]["S"] + "x"}}):
            dynamodb.put_item(TableName=table, Item=each)


@pytest.mark.parametrize("logical_id", ["AggregatesTable", "EnvironmentsTable"])
def test_the_backfill_marks_projects_written_before_marks_page_by_page_then_stops(resources, logical_id, monkeypatch):
    from puraify.store import clients

    aws = resources(logical_id)
    table = aws.name(logical_id)
    projects = [f"old-{n:02d}" for n in range(12)]
    _write_unmarked(aws, table, logical_id, projects)
    source = "environments" if logical_id == "EnvironmentsTable" else "events"
    first = DynamoProjectMarks(table, source)
    assert _all(first, "", 50) == []
    # One page per call: a small page makes it take several calls, each resuming where the last stopped
    scan = clients.client("dynamodb").scan
    calls: list[dict] = []

    def small_pages(**args):
        calls.append(args)
        return scan(**{**args, "Limit": 7})

    monkeypatch.setattr(clients.client("dynamodb"), "scan", small_pages)
    marked = [first.backfill() for _ in range(30)]
    assert sum(marked) >= len(projects) and marked[-1] == 0
    assert _all(first, "", 50) == projects
    pages = len(calls)
    assert pages > 2 and all("ExclusiveStartKey" in c for c in calls[1:])
    # Done: this instance reads nothing more, and another reads only the state
    assert first.backfill() == 0 and len(calls) == pages
    assert DynamoProjectMarks(table, source).backfill() == 0 and len(calls) == pages
    # Marks written since are untouched, and a table without a source has nothing to backfill
    first.mark(["new"])
    assert "new" in _all(first, "", 50)
    assert DynamoProjectMarks(table).backfill() == 0
