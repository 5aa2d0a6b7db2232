"""Compiling and evaluating a policy bundle with regopy, and keeping the active one current.

A bundle is compiled once into a regopy ``Bundle`` (a plan for its entrypoint) and reused for
every decision; input goes in as JSON text (regopy's dict conversion truncates floats). The
result is validated: ``allow`` must be a boolean and ``deny`` a list of strings (a post_deploy
decision adds a ``verdict`` and ``notes``), anything else is an evaluation error, which the caller
turns into a denial.

``PolicyLoader`` checks the bucket's manifest at most every ``poll_seconds``; a new revision is
loaded, verified against its digests and compiled before it replaces the active one. A bad bundle
is rejected (remembered with its reason, reported once) and the last good one stays active.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import regopy

from puraify.clock import iso, now
from puraify.errors import UnavailableError
from puraify.observability import logger
from puraify.planning.bundles import DATA_FILE, BundleStore, Manifest, bundle_digest, sha256
from puraify.store.planning import MANIFEST_KEY

MAX_FALLBACK_VERSIONS = 10

# An input with no facts: every policy must answer it (with denials), which proves the entrypoint exists.
PROBE_INPUT: dict[str, Any] = {"deployment": {}, "facts": {}}


class BundleRejectedError(Exception):
    """The bundle cannot become active: digest mismatch, compile error or missing entrypoint."""


class PolicyEvaluationError(Exception):
    """Evaluation failed or produced something other than ``{"allow": bool, "deny": [str]}``."""


VERDICTS = frozenset({"continue", "healthy", "rollback", "no_signal", "undecided"})


@dataclass(frozen=True)
class PolicyResult:
    allow: bool
    deny: list[str]
    verdict: str | None = None  # post_deploy decisions only: what the deployment watch should do
    notes: list[str] = field(default_factory=list)


@dataclass
class CompiledPolicy:
    revision: str
    sha256: str
    entrypoint: str
    files: dict[str, str]
    loaded_at: float
    _interpreter: Any = field(repr=False, default=None)
    _bundle: Any = field(repr=False, default=None)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def evaluate(self, document: dict[str, Any]) -> PolicyResult:
        """Evaluate the entrypoint for ``document``; raises PolicyEvaluationError on any malformed result."""
        with self._lock:  # a regopy interpreter holds one input at a time
            try:
                built = exact_input(document)
                if built is None:
                    self._interpreter.set_input_term(json.dumps(document, allow_nan=False))
                else:
                    self._interpreter.set_input(built)
                output = self._interpreter.query_bundle_entrypoint(self._bundle, self.entrypoint)
                ok = output.ok()
                raw = str(output) if not ok else ""
                results = [r.expressions for r in output.results]
            except Exception as error:  # noqa: BLE001 - regopy raises RegoError, and ValueError on error output
                raise PolicyEvaluationError(f"rego error: {_first_lines(str(error))}") from error
        if not ok:
            raise PolicyEvaluationError(f"rego error: {_first_lines(raw)}")
        if len(results) != 1 or len(results[0]) != 1:
            raise PolicyEvaluationError(f"{self.entrypoint} is undefined or not a single value for this input")
        return validate_result(results[0][0])


_INT64 = 2**63


def _converts_exactly(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value  # regopy passes strings as C strings
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, float):
        return math.isfinite(value) and float(f"{value:f}") == value  # regopy keeps 6 decimals of a float
    if isinstance(value, dict):
        return all(isinstance(k, str) and _converts_exactly(k) and _converts_exactly(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_converts_exactly(v) for v in value)
    return False


def exact_input(document: dict[str, Any]) -> regopy.Input | None:
    """The document as a regopy ``Input`` built from Python values, when that conversion loses nothing.

    rego-cpp parses JSON input text at about a quarter of a gate evaluation; building the input
    from values skips the parse, but keeps only 6 decimals of a float (1e-9 becomes 0). Documents
    whose floats survive that exactly (the usual rates and ages) take this way; others go as JSON.
    """
    return regopy.Input(document) if _converts_exactly(document) else None


def validate_result(value: Any) -> PolicyResult:
    """``{"allow": bool, "deny": [str, ...]}`` or PolicyEvaluationError; never a permissive guess."""
    if not isinstance(value, dict):
        raise PolicyEvaluationError(f"the decision must be an object, got {type(value).__name__}")
    allow, deny = value.get("allow"), value.get("deny")
    if not isinstance(allow, bool):
        raise PolicyEvaluationError(f"'allow' must be a boolean, got {json.dumps(allow)[:80]}")
    if not isinstance(deny, list) or not all(isinstance(reason, str) for reason in deny):
        raise PolicyEvaluationError(f"'deny' must be a list of strings, got {json.dumps(deny)[:80]}")
    verdict, notes = value.get("verdict"), value.get("notes", [])
    if verdict is not None and verdict not in VERDICTS:
        raise PolicyEvaluationError(f"'verdict' must be one of {sorted(VERDICTS)}, got {json.dumps(verdict)[:80]}")
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise PolicyEvaluationError(f"'notes' must be a list of strings, got {json.dumps(notes)[:80]}")
    return PolicyResult(allow=allow, deny=list(deny), verdict=verdict, notes=list(notes))


def compile_bundle(files: dict[str, bytes], *, revision: str, entrypoint: str, isolate: bool = True) -> CompiledPolicy:
    """Compile a bundle's modules and data for ``entrypoint``, and prove it answers the probe input.

    With ``isolate`` the bundle is first compiled in a child process (``puraify.planning.probe``),
    so a bundle that aborts regopy is rejected instead of taking this process down.
    """
    if isolate:
        from puraify.planning.probe import ProbeFailedError, probe

        try:
            probe(files, entrypoint)
        except ProbeFailedError as error:
            raise BundleRejectedError(str(error)) from error
    interpreter = regopy.Interpreter()
    try:
        for name, body in sorted(files.items()):
            if name.endswith(".rego"):
                interpreter.add_module(name, body.decode())
        if DATA_FILE in files:
            interpreter.add_data_json(files[DATA_FILE].decode())
        built = interpreter.build(None, [entrypoint])
    except (regopy.RegoError, UnicodeDecodeError) as error:
        raise BundleRejectedError(f"compile error: {_first_lines(str(error))}") from error
    if not built.ok():
        raise BundleRejectedError("compile error: the bundle did not build")
    digests = {name: sha256(body) for name, body in files.items()}
    policy = CompiledPolicy(
        revision=revision,
        sha256=bundle_digest(digests),
        entrypoint=entrypoint,
        files=digests,
        loaded_at=now(),
        _interpreter=interpreter,
        _bundle=built,
    )
    try:
        policy.evaluate(PROBE_INPUT)
    except PolicyEvaluationError as error:
        raise BundleRejectedError(f"entrypoint {entrypoint} does not answer a decision: {error}") from error
    return policy


def _first_lines(text: str, lines: int = 6) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines()[:lines])[:500]


def load_bundle(store: BundleStore, manifest_bytes: bytes) -> CompiledPolicy:
    """Fetch the files a manifest names, verify every digest, and compile."""
    try:
        manifest = Manifest.model_validate_json(manifest_bytes)
    except ValueError as error:
        raise BundleRejectedError(f"the manifest is not valid: {_first_lines(str(error), 2)}") from error
    files: dict[str, bytes] = {}
    for name, entry in manifest.files.items():
        body = store.get(entry.key, entry.version_id)
        if body is None:
            raise BundleRejectedError(f"{name} is missing from the bucket")
        if sha256(body) != entry.sha256:
            raise BundleRejectedError(f"digest mismatch for {name}: expected {entry.sha256[:12]}...")
        files[name] = body
    if bundle_digest({n: e.sha256 for n, e in manifest.files.items()}) != manifest.sha256:
        raise BundleRejectedError("digest mismatch: the manifest's bundle digest does not match its files")
    policy = compile_bundle(files, revision=manifest.revision, entrypoint=manifest.entrypoint)
    return policy


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
    ):
        self.store = store
        self.poll_seconds = poll_seconds
        self.on_reject = on_reject or (lambda _: None)
        self.clock = clock
        self.active: CompiledPolicy | None = None
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
                policy = load_bundle(self.store, manifest_bytes)
            except UnavailableError:
                self._seen_token = None  # try this manifest again at the next check
                return self.active
            except BundleRejectedError as error:
                self.last_rejected = Rejection(revision, str(error), self.clock())
                self.on_reject(self.last_rejected)
                if self.active is None:
                    self.active = self._last_good(token)
                return self.active
            self.active = policy
            return policy

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
                    return load_bundle(self.store, manifest_bytes)
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
