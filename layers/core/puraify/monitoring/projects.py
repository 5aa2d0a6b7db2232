"""``GET /monitoring/projects``: the projects that have events or environments (the console's picker).

Read from two registries of project marks, never a scan: Monitoring marks a project when it ingests
its events, the Environment Manager when it creates its first environment. Both list in id order, so a
page merges the two. An engine granted ``*`` sees every marked project; any other engine sees those of
its granted projects that are marked.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from puraify.auth import Principal
from puraify.monitoring.ports import ProjectMarks

ID_CHARS = r"[A-Za-z0-9_.:-]"


class ProjectsQuery(BaseModel):
    """``q``: the start of the project id (case-sensitive, as ids are); ``cursor``: a page's ``next_cursor``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: Annotated[str, StringConstraints(pattern=rf"^{ID_CHARS}{{0,128}}$")] = ""
    limit: int = Field(default=50, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(pattern=rf"^{ID_CHARS}{{1,128}}$")] | None = None


class ProjectEntry(BaseModel):
    project_id: str
    events: bool = Field(description="the project has ingested events")
    environments: bool = Field(description="the project has (or had) an environment")


class ProjectsPage(BaseModel):
    projects: list[ProjectEntry]
    next_cursor: str | None = None


def projects(caller: Principal, q: ProjectsQuery, events: ProjectMarks, environments: ProjectMarks) -> dict[str, Any]:
    """One page of the projects the caller may pick, in id order (at most ``q.limit``)."""
    if caller.has_all_projects:
        return _every(q, events, environments)
    return _granted(caller, q, events, environments)


def _every(q: ProjectsQuery, events: ProjectMarks, environments: ProjectMarks) -> dict[str, Any]:
    if q.cursor is not None and not q.cursor.startswith(q.q):
        if q.cursor > q.q:  # every id starting with q sorts before this cursor: nothing is left
            return _answer([], set(), set(), None)
        q = q.model_copy(update={"cursor": None})
    with_events, more_events = events.page(q.q, q.cursor, q.limit)
    with_envs, more_envs = environments.page(q.q, q.cursor, q.limit)
    merged = sorted(set(with_events) | set(with_envs))
    page = merged[: q.limit]
    # A full page from either source may hide later ids: those sort after the last one shown.
    more = len(merged) > q.limit or more_events or more_envs
    return _answer(page, set(with_events), set(with_envs), page[-1] if more and page else None)


def _granted(caller: Principal, q: ProjectsQuery, events: ProjectMarks, environments: ProjectMarks) -> dict[str, Any]:
    candidates = sorted(p for p in caller.projects if p.startswith(q.q) and (q.cursor is None or p > q.cursor))
    page = candidates[: q.limit]
    with_events, with_envs = events.known(page), environments.known(page)
    shown = [p for p in page if p in with_events or p in with_envs]
    return _answer(shown, with_events, with_envs, page[-1] if len(candidates) > q.limit else None)


def _answer(page: list[str], with_events: set[str], with_envs: set[str], cursor: str | None) -> dict[str, Any]:
    entries = [{"project_id": p, "events": p in with_events, "environments": p in with_envs} for p in page]
    return {"projects": entries, "next_cursor": cursor}
