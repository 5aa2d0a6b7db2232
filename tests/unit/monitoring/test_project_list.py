"""The project picker's list (``monitoring.projects``) over the fakes of its two registries: pages merge
events' and environments' marks in id order, and an engine not granted ``*`` sees only its own."""

from __future__ import annotations

import pytest

from puraify.auth import Principal
from puraify.monitoring.projects import ProjectsQuery, projects
from tests.fakes.project_marks import MemoryProjectMarks

EVERY = Principal("admin", projects=frozenset({"*"}))


def _registries(with_events: list[str], with_envs: list[str]) -> tuple[MemoryProjectMarks, MemoryProjectMarks]:
    events, environments = MemoryProjectMarks(), MemoryProjectMarks()
    events.mark(with_events)
    environments.mark(with_envs)
    return events, environments


def _walk(caller: Principal, events, environments, limit: int, q: str = "") -> list[dict]:
    seen, cursor = [], None
    for _ in range(50):
        page = projects(caller, ProjectsQuery(q=q, limit=limit, cursor=cursor), events, environments)
        assert len(page["projects"]) <= limit
        seen += page["projects"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 100])
@pytest.mark.parametrize("split", range(6))
def test_every_page_size_lists_each_project_once_in_id_order_with_what_it_has(limit, split):
    ids = [f"p{n}" for n in range(8)]
    with_events = [p for i, p in enumerate(ids) if (i + split) % 3 != 0]
    with_envs = [p for i, p in enumerate(ids) if (i * split) % 2 == 0]
    events, environments = _registries(with_events, with_envs)
    shown = _walk(EVERY, events, environments, limit)
    expected = sorted(set(with_events) | set(with_envs))
    assert [p["project_id"] for p in shown] == expected
    assert all(p["events"] == (p["project_id"] in with_events) for p in shown)
    assert all(p["environments"] == (p["project_id"] in with_envs) for p in shown)


def test_another_engine_sees_its_granted_projects_that_have_something():
    events, environments = _registries(["mine-a", "theirs"], ["mine-b"])
    caller = Principal("reader", projects=frozenset({"mine-a", "mine-b", "mine-empty"}))
    for limit in (1, 2, 3):
        assert [p["project_id"] for p in _walk(caller, events, environments, limit)] == ["mine-a", "mine-b"]


def test_a_search_and_a_cursor_from_another_search_answer_what_the_search_holds():
    events, environments = _registries(["shop-a", "shop-b", "blog"], [])
    first = projects(EVERY, ProjectsQuery(q="shop", cursor="blog"), events, environments)  # before every shop id
    after = projects(EVERY, ProjectsQuery(q="shop", cursor="zzz"), events, environments)  # after them
    assert [p["project_id"] for p in first["projects"]] == ["shop-a", "shop-b"]
    assert after == {"projects": [], "next_cursor": None}
