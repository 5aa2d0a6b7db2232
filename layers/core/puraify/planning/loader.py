"""The active policy of a process: the bucket's manifest polled, a new revision compiled before it replaces
the last good one.

``PolicyLoader`` checks the bucket's manifest at most every ``poll_seconds``; a new revision is
loaded, verified against its digests and compiled before it replaces the active one. A bad bundle
is rejected (remembered with its reason, reported once) and the last good one stays active.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from puraify.clock import iso, now
from puraify.errors import UnavailableError
from puraify.observability import logger
from puraify.planning.bundles import MANIFEST_KEY, BundleStore
from puraify.planning.compiler import load_bundle
from puraify.planning.rego import BundleRejectedError, CompiledPolicy

MAX_FALLBACK_VERSIONS = 10


@dataclass
class Rejection:
    revision: str | None
    reason: str
    rejected_at: float


class PolicyLoader:
    """The active policy of this process, refreshed from the bucket at most every ``poll_seconds``."""

    def __init__(
        self,
        store: BundleStore,
        poll_seconds: float,
        on_reject: Callable[[Rejection], None] | None = None,
        clock: Callable[[], float] = now,
        samples: Callable[[], list[dict[str, Any]]] = list,
        budget_seconds: float | None = None,
    ):
        self.store = store
        self.poll_seconds = poll_seconds
        self.on_reject = on_reject or (lambda _: None)
        self.clock = clock
        self.samples = samples
        self.budget_seconds = budget_seconds
        self.active: CompiledPolicy | None = None
        self.previous: CompiledPolicy | None = None  # the one the active replaced: the last good one
        self.last_rejected: Rejection | None = None
        self.checked_at: float | None = None
        self._seen_token: str | None = None
        self._lock = threading.Lock()

    def current(self) -> CompiledPolicy | None:
        """The active policy, after a check for a new revision if the last check is ``poll_seconds`` old."""
        checked = self.checked_at
        if checked is None or self.clock() - checked >= self.poll_seconds:
            self.refresh()
        return self.active

    def refresh(self, force: bool = False) -> CompiledPolicy | None:
        """Check the bucket now; load a new manifest if there is one. Store errors keep the active policy."""
        with self._lock:
            if not force and self.checked_at is not None and self.clock() - self.checked_at < self.poll_seconds:
                return self.active
            self.checked_at = self.clock()
            try:
                token = self.store.head(MANIFEST_KEY)
                if token is None or token == self._seen_token:
                    return self.active
                manifest_bytes = self.store.get(MANIFEST_KEY, token if not token.startswith('"') else None)
            except UnavailableError:
                logger.warning("policy bucket unavailable; keeping the active policy")
                return self.active
            self._seen_token = token
            if manifest_bytes is None:
                return self.active
            revision = _revision_of(manifest_bytes)
            try:
                policy = self._load(manifest_bytes)
            except UnavailableError:
                self._seen_token = None  # try this manifest again at the next check
                return self.active
            except BundleRejectedError as error:
                self.last_rejected = Rejection(revision, str(error), self.clock())
                self.on_reject(self.last_rejected)
                if self.active is None:
                    self.active = self._last_good(token)
                return self.active
            if self.previous is not None:
                self.previous.close()
            self.previous, self.active = self.active, policy
            return policy

    def reject_active(self, policy: CompiledPolicy, reason: str) -> CompiledPolicy | None:
        """A decision found ``policy`` over budget on real facts: reject it, and make the last good one active.

        The runaway evaluation holds the rejected bundle's interpreter until it ends; the last good
        bundle has its own, so other decisions go on at once instead of queueing behind it.
        """
        with self._lock:
            if self.active is not policy:
                return self.active
            self.last_rejected = Rejection(policy.revision, reason, self.clock())
            self.on_reject(self.last_rejected)
            policy.close()
            fallback, self.previous = self.previous, None
            self.active = fallback or (self._last_good(self._seen_token) if self._seen_token else None)
            return self.active

    def _load(self, manifest_bytes: bytes) -> CompiledPolicy:
        samples = self.samples() if self.budget_seconds is not None else []
        return load_bundle(self.store, manifest_bytes, samples, self.budget_seconds)

    def _last_good(self, rejected_token: str) -> CompiledPolicy | None:
        """On a cold start with a bad active manifest: the newest earlier manifest version that loads.

        This is what "the last good one stays active" means for a process that never saw it; the
        versioned bucket keeps every manifest that was ever active.
        """
        try:
            versions = [v for v in self.store.versions(MANIFEST_KEY, MAX_FALLBACK_VERSIONS) if v != rejected_token]
            for version in versions:
                manifest_bytes = self.store.get(MANIFEST_KEY, version)
                if manifest_bytes is None:
                    continue
                try:
                    return self._load(manifest_bytes)
                except BundleRejectedError:
                    continue
        except UnavailableError:
            logger.warning("policy bucket unavailable while looking for the last good bundle")
        return None


def _revision_of(manifest_bytes: bytes) -> str | None:
    try:
        revision = json.loads(manifest_bytes).get("revision")
    except (ValueError, AttributeError):
        return None
    return revision if isinstance(revision, str) else None


def status_time(epoch: float | None) -> str | None:
    return iso(epoch) if epoch is not None else None
