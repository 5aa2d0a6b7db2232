"""Facts and their providers: collection in parallel with a timeout each, and freshness.

A provider returns ``{fact_id: value}`` (observed now) or ``{fact_id: Fact}`` (with its own
timestamp, e.g. an external metric that says when it was measured). Every provider runs on its
own worker thread and the registry waits for all of them until one shared deadline, so a hung
provider costs its timeout, not the sum. Workers are reused daemon threads: starting a thread per
provider costs more than the rest of a warm decision, and ``ThreadPoolExecutor`` joins its threads
at exit, so one hung provider would keep the process from exiting.
A provider that fails, hangs or returns nothing yields facts carrying an ``error``: a missing
fact is reported as missing, never replaced by a default.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from puraify.clock import iso, now
from puraify.planning.models import Fact, FactView

# "deployment" providers serve post_deploy decisions only; the others serve pre_deploy ones.
Scope = Literal["global", "project", "deployment"]


class ProviderUnavailableError(Exception):
    """The provider's data source is not there (yet): its facts are reported as unavailable."""


@dataclass(frozen=True)
class FactContext:
    """What a decision is about; global providers ignore it."""

    project_id: str = ""
    environment: str = ""
    deployment_id: str = ""
    phase: str = "pre_deploy"
    version: str | None = None
    baseline_version: str | None = None
    since: float | None = None  # post_deploy: when the deployment started
    source_env: str = ""  # pre_deploy and rollback: where the version's health is read (default: environment)
    window_seconds: int = 3600  # pre_deploy and rollback: how far back (the policy data's pre_deploy window)


class Provider(Protocol):
    name: str
    fact_ids: tuple[str, ...]
    scope: Scope

    def collect(self, context: FactContext) -> dict[str, Any]: ...


def _as_fact(fact_id: str, raw: Any, source: str, observed: float) -> Fact:
    if isinstance(raw, Fact):
        return raw.model_copy(update={"id": fact_id, "source": raw.source or source})
    return Fact(id=fact_id, value=raw, timestamp=observed, source=source)


def _run(provider: Provider, context: FactContext, out: dict[str, Fact], finished: threading.Event) -> None:
    try:
        _collect_one(provider, context, out)
    finally:
        finished.set()


def _collect_one(provider: Provider, context: FactContext, out: dict[str, Fact]) -> None:
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


class _Workers:
    """Reusable daemon worker threads; a job never waits behind another (a hung one keeps its worker)."""

    def __init__(self, limit: int = 64):
        self.limit = limit
        self._jobs: queue.SimpleQueue[tuple[Callable[..., None], tuple[object, ...]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = 0
        self._backlog = 0  # jobs queued at the limit, with no worker reserved for them

    def submit(self, job: Callable[..., None], *args: object) -> None:
        with self._lock:
            if self._idle > 0:
                self._idle -= 1  # reserve a waiting worker for this job
            elif self._count < self.limit:
                self._count += 1
                threading.Thread(target=self._loop, name=f"fact-worker-{self._count}", daemon=True).start()
            else:
                self._backlog += 1  # every worker is stuck: this job waits (and its facts likely time out)
        self._jobs.put((job, args))

    def _loop(self) -> None:
        while True:
            job, args = self._jobs.get()
            job(*args)
            with self._lock:
                if self._backlog:
                    self._backlog -= 1
                else:
                    self._idle += 1


_workers = _Workers()


def collect(providers: Iterable[Provider], context: FactContext, timeout: float) -> dict[str, Fact]:
    """Run the providers in parallel; facts of a provider that misses ``timeout`` carry an error."""
    providers = list(providers)
    started = now()
    results: list[dict[str, Fact]] = [{} for _ in providers]
    done = [threading.Event() for _ in providers]
    for provider, out, finished in zip(providers, results, done, strict=True):
        _workers.submit(_run, provider, context, out, finished)
    deadline = started + timeout
    facts: dict[str, Fact] = {}
    for provider, finished, out in zip(providers, done, results, strict=True):
        if not finished.wait(max(0.0, deadline - now())):
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
