"""The in-memory twin of ``puraify.store.project_marks.DynamoProjectMarks`` (the ``ProjectMarks`` ports)."""

from __future__ import annotations

from collections.abc import Iterable


class MemoryProjectMarks:
    def __init__(self, unmarked: Iterable[str] = ()) -> None:
        self.marked: set[str] = set()
        self.writes = 0  # marks written (a project already marked by this instance is not written again)
        self.unmarked = list(unmarked)  # projects written before marks existed, for the backfill

    def backfill(self) -> int:
        found, self.unmarked = self.unmarked, []
        self.mark(found)
        return len(found)

    def mark(self, project_ids: Iterable[str]) -> None:
        for project_id in dict.fromkeys(project_ids):
            if project_id not in self.marked:
                self.marked.add(project_id)
                self.writes += 1

    def page(self, prefix: str, after: str | None, limit: int) -> tuple[list[str], bool]:
        found = sorted(p for p in self.marked if p.startswith(prefix) and (after is None or p > after))
        return found[:limit], len(found) > limit

    def known(self, project_ids: list[str]) -> set[str]:
        return {p for p in project_ids if p in self.marked}
