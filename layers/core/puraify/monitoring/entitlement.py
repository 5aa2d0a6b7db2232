"""Telemetry entitlement: which engines' events may steer a project's gate, deployment watch and paging.

Any engine holding ``logs:write`` and the project's grant may send events; they are stored and shown.
Only an *entitled* event counts where telemetry decides something: the per-version health the
deployment watch judges, the pre-deploy gate's error rate, and the threshold that makes an error
flood a ``critical`` alert (which holds the gate). An event is entitled when its reporter holds

- ``report:<environment>`` for the environment the event names, or
- ``report``: every environment, and events that name none (they count for every environment).

``admin`` holds every scope, so it is entitled too. Nothing else is: a fresh engine's telemetry is
recorded but steers nothing until an admin grants it (``PUT /engines/{id}/permissions``). The scopes
are read from the authenticated request, so a revoked entitlement stops counting within the engine
cache's TTL; events already counted stay counted.
"""

from __future__ import annotations

from collections.abc import Callable

from puraify.auth import Principal

WRITE_SCOPE = "logs:write"
REPORT_SCOPE = "report"

Entitled = Callable[[str | None], bool]


def report_scope(environment: str) -> str:
    """The scope that entitles an engine to report for ``environment``."""
    return f"{REPORT_SCOPE}:{environment}"


def entitlement(principal: Principal) -> Entitled:
    """Whether ``principal``'s event for an environment (None: unnamed) is entitled."""
    every = principal.has_scope(REPORT_SCOPE)

    def entitled(environment: str | None) -> bool:
        return every or (environment is not None and principal.has_scope(report_scope(environment)))

    return entitled


def nobody(_: str | None) -> bool:
    """The entitlement of a reporter nobody vouched for: none."""
    return False
