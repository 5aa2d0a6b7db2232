"""Facts and their providers: collection in parallel with a timeout each, and freshness.

A provider returns ``{fact_id: value}`` (observed now) or ``{fact_id: Fact}`` (with its own
timestamp, e.g. an external metric that says when it was measured). Every provider runs in its
own daemon thread and the registry waits for all of them until one shared deadline, so a hung
provider costs its timeout, not the sum, and never blocks the process from exiting.
A provider that fails, hangs or returns nothing yields facts carrying an ``error``: a missing
fact is reported as missing, never replaced by a default.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from puraify.clock import iso, now
from puraify.planning.models import Fact, FactView

Scope = Literal["global", "project"]


class ProviderUnavailableError(Exception):
    """The provider's data source is not there (yet): its facts are reported as unavailable."""


@dataclass(frozen=True)
class FactContext:
    """What a decision is about; global providers ignore it."""

    project_id: str = ""
    environment: str = ""
    deployment_id: str = ""


class Provider(Protocol):
    name: str
    fact_ids: tuple[str, ...]
    scope: Scope

    def collect(self, context: FactContext) -> dict[str, Any]: ...


def _as_fact(fact_id: str, raw: Any, source: str, observed: float) -> Fact:
    if isinstance(raw, Fact):
        return raw.model_copy(update={"id": fact_id, "source": raw.source or source})
    return Fact(id=fact_id, value=raw, timestamp=observed, source=source)


def _run(provider: Provider, context: FactContext, out: dict[str, Fact]) -> None:
    try:
        values = provider.collect(context)
        observed = now()
        for fact_id in provider.fact_ids:
            if fact_id in values:
                out[fact_id] = _as_fact(fact_id, values[fact_id], provider.name, observed)
            else:
                out[fact_id] = Fact(
                    id=fact_id, error=f"provider {provider.name} returned no value", source=provider.name
                )
    except ProviderUnavailableError as error:
        for fact_id in provider.fact_ids:
            out[fact_id] = Fact(
                id=fact_id, error=f"provider {provider.name} unavailable: {error}", source=provider.name
            )
    except Exception as error:  # noqa: BLE001 - any provider failure becomes an error fact, never a crash
        message = f"provider {provider.name} failed: {type(error).__name__}: {str(error)[:200]}"
        for fact_id in provider.fact_ids:
            out[fact_id] = Fact(id=fact_id, error=message, source=provider.name)


def collect(providers: Iterable[Provider], context: FactContext, timeout: float) -> dict[str, Fact]:
    """Run the providers in parallel; facts of a provider that misses ``timeout`` carry an error."""
    providers = list(providers)
    started = now()
    results: list[dict[str, Fact]] = [{} for _ in providers]
    threads = []
    for provider, out in zip(providers, results, strict=True):
        thread = threading.Thread(target=_run, args=(provider, context, out), name=f"fact-{provider.name}", daemon=True)
        thread.start()
        threads.append(thread)
    deadline = started + timeout
    facts: dict[str, Fact] = {}
    for provider, thread, out in zip(providers, threads, results, strict=True):
        thread.join(max(0.0, deadline - now()))
        if thread.is_alive():
            for fact_id in provider.fact_ids:
                facts[fact_id] = Fact(
                    id=fact_id, error=f"provider {provider.name} timed out after {timeout:g}s", source=provider.name
                )
        else:
            facts.update(dict(out))
    return facts


def view(fact: Fact, at: float, max_age: float) -> FactView:
    """How a fact looks at time ``at``: its age, and stale when it errored or is older than ``max_age``."""
    age = None if fact.timestamp is None else round(max(0.0, at - fact.timestamp), 3)
    stale = fact.error is not None or age is None or age > max_age
    return FactView(
        value=fact.value,
        timestamp=iso(fact.timestamp) if fact.timestamp is not None else None,
        age_seconds=age,
        max_age_seconds=max_age,
        stale=stale,
        error=fact.error,
        source=fact.source,
    )


def problem(fact_id: str, seen: FactView) -> str | None:
    """Why a fact cannot be used (a human-readable reason), or None when it is fresh."""
    if seen.error:
        return f"fact {fact_id} is unavailable: {seen.error}"
    if seen.age_seconds is None:
        return f"fact {fact_id} has no timestamp"
    if seen.stale:
        return f"fact {fact_id} is stale ({seen.age_seconds:.1f}s old, max {seen.max_age_seconds:g}s)"
    return None
