"""Compiling and evaluating a policy bundle with regopy, and keeping the active one current.

A bundle is compiled once into a regopy ``Bundle`` (a plan for its entrypoint) and reused for
every decision; input goes in as JSON text (regopy's dict conversion truncates floats). The
result is validated: ``allow`` must be a boolean and ``deny`` a list of strings (a post_deploy
decision adds a ``verdict`` and ``notes``), anything else is an evaluation error, which the caller
turns into a denial.

``PolicyLoader`` checks the bucket's manifest at most every ``poll_seconds``; a new revision is
loaded, verified against its digests and compiled before it replaces the active one. A bad bundle
is rejected (remembered with its reason, reported once) and the last good one stays active.

A decision's evaluation is bounded: ``evaluate(document, budget_seconds=...)`` runs on the
policy's own worker thread (regopy releases the GIL while it evaluates) and the caller stops
waiting at the budget. regopy cannot be interrupted, so a runaway evaluation finishes in the
background; requests that queued behind it and whose caller already gave up are skipped. A
bundle is also timed on the current facts before it becomes active (``samples``, in the probe
child, which exits at the budget), so one that is cheap on an empty input but slow on real facts
is rejected at publish or reload.
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import regopy
from regopy import rego_shared

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


class PolicyBudgetExceededError(PolicyEvaluationError):
    """The evaluation did not finish within its budget; the caller stopped waiting."""

    def __init__(self, budget_seconds: float):
        super().__init__(f"policy evaluation did not finish within its {budget_ms(budget_seconds)} ms budget")


def budget_ms(budget_seconds: float) -> int:
    return round(budget_seconds * 1000)


class BoundedWorker:
    """One daemon thread that runs a policy's evaluations, each awaited for at most its budget.

    The handoff costs about 14 us (a SimpleQueue and a lock), against about 30 us for a
    ThreadPoolExecutor's future. A job whose caller gave up is skipped, not evaluated late.
    """

    def __init__(self, name: str):
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], list[Any], threading.Lock, float] | None]
        self._jobs = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def run(self, job: Callable[[], Any], budget_seconds: float) -> Any:
        """``job()``'s result, or PolicyBudgetExceededError once ``budget_seconds`` have passed."""
        done = threading.Lock()
        done.acquire()
        box: list[Any] = []
        self._jobs.put((job, box, done, time.monotonic() + budget_seconds))
        if not done.acquire(timeout=budget_seconds):
            raise PolicyBudgetExceededError(budget_seconds)
        ok, value = box
        if not ok:
            raise value
        return value

    def close(self) -> None:
        self._jobs.put(None)

    def _serve(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, box, done, deadline = item
            if time.monotonic() > deadline:
                continue  # its caller has already answered without it
            try:
                box.extend((True, job()))
            except Exception as error:  # noqa: BLE001 - handed to the caller, who raises it
                box.extend((False, error))
            done.release()


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
    _worker: BoundedWorker | None = field(repr=False, default=None)

    def evaluate(self, document: dict[str, Any], budget_seconds: float | None = None) -> PolicyResult:
        """Evaluate the entrypoint for ``document``; raises PolicyEvaluationError on any malformed result.

        With ``budget_seconds``, raises PolicyBudgetExceededError when the evaluation takes longer.
        """
        if budget_seconds is None:
            return self._evaluate(document)
        if self._worker is None:
            with self._lock:
                self._worker = self._worker or BoundedWorker(f"policy-{self.revision}")
        result: PolicyResult = self._worker.run(lambda: self._evaluate(document), budget_seconds)
        return result

    def close(self) -> None:
        """Stop this policy's worker thread (after a running evaluation finishes)."""
        if self._worker is not None:
            self._worker.close()

    def _evaluate(self, document: dict[str, Any]) -> PolicyResult:
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

# The C functions regopy's own ``Input(value)`` calls, bound once: its pure-Python walk (abc
# isinstance checks, a string buffer per string, a wrapper per call) was a quarter of a gate
# evaluation. The same calls in the same order build the same input; see exact_input.
_rego = rego_shared.rego
_push_string, _push_int, _push_float = _rego.regoInputString, _rego.regoInputInt, _rego.regoInputFloat
_push_bool, _push_null = _rego.regoInputBoolean, _rego.regoInputNull
_push_item, _push_object, _push_array = _rego.regoInputObjectItem, _rego.regoInputObject, _rego.regoInputArray


def exact_input(document: dict[str, Any]) -> regopy.Input | None:
    """The document as a regopy ``Input`` built from Python values, when that conversion loses nothing.

    rego-cpp parses JSON input text at about a quarter of a gate evaluation; building the input
    from values skips the parse, but keeps only 6 decimals of a float (1e-9 becomes 0) and passes
    strings as C strings. Documents whose values survive that exactly (the usual rates and ages)
    take this way; others (None is returned) go as JSON text.
    """
    handle = _rego.regoNewInput()
    try:
        exact = _push(handle, document)
    except BaseException:
        rego_shared.rego_free_input(handle)
        raise
    if not exact:
        rego_shared.rego_free_input(handle)
        return None
    built = regopy.Input.__new__(regopy.Input)
    built._impl = handle  # freed by Input.__del__, as for one regopy built
    return built


def _push(handle: Any, value: Any) -> bool:
    """Push ``value`` onto the input being built; False when it would not arrive exactly."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            return False
        code = _push_string(handle, value.encode())
    elif kind is bool:
        code = _push_bool(handle, value)
    elif kind is int:
        if not -_INT64 <= value < _INT64:
            return False
        code = _push_int(handle, value)
    elif kind is float:
        if not (math.isfinite(value) and float(f"{value:f}") == value):
            return False
        code = _push_float(handle, value)
    elif value is None:
        code = _push_null(handle)
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _push(handle, key) or not _push(handle, item):
                return False
            if _push_item(handle) != 0:
                raise PolicyEvaluationError("rego could not build the input")
        code = _push_object(handle, len(value))
    elif kind is list:
        for item in value:
            if not _push(handle, item):
                return False
        code = _push_array(handle, len(value))
    else:
        return False
    if code != 0:
        raise PolicyEvaluationError("rego could not build the input")
    return True


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


def compile_bundle(
    files: dict[str, bytes],
    *,
    revision: str,
    entrypoint: str,
    isolate: bool = True,
    samples: Sequence[dict[str, Any]] = (),
    budget_seconds: float | None = None,
) -> CompiledPolicy:
    """Compile a bundle's modules and data for ``entrypoint``, and prove it answers the probe input.

    With ``isolate`` the bundle is first compiled in a child process (``puraify.planning.probe``),
    so a bundle that aborts regopy is rejected instead of taking this process down. With
    ``budget_seconds``, it is rejected when any of ``samples`` (decision inputs on the current
    facts) takes longer than that to evaluate; that check runs in the child when isolated.
    """
    if isolate:
        from puraify.planning.probe import ProbeFailedError, probe

        try:
            probe(files, entrypoint, samples, budget_seconds)
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
    budget = None if isolate else budget_seconds  # an isolated bundle was timed in the child already
    try:
        policy.evaluate(PROBE_INPUT, budget)
    except PolicyBudgetExceededError as error:
        raise BundleRejectedError(_over_budget("a decision on no facts", budget)) from error
    except PolicyEvaluationError as error:
        raise BundleRejectedError(f"entrypoint {entrypoint} does not answer a decision: {error}") from error
    if budget is not None:
        check_budget(policy, samples, budget)
    return policy


def _over_budget(what: str, budget_seconds: float | None) -> str:
    return f"{what} did not finish within the {budget_ms(budget_seconds or 0)} ms decision budget"


def check_budget(policy: CompiledPolicy, samples: Sequence[dict[str, Any]], budget_seconds: float) -> None:
    """BundleRejectedError unless every sample input evaluates within the budget (errors are the gate's own)."""
    for sample in samples:
        try:
            policy.evaluate(sample, budget_seconds)
        except PolicyBudgetExceededError as error:
            what = f"on the current facts a {sample.get('deployment', {}).get('phase', 'pre_deploy')} decision"
            raise BundleRejectedError(_over_budget(what, budget_seconds)) from error
        except PolicyEvaluationError:
            continue  # a decision on this input fails safe with the error as its reason


def _first_lines(text: str, lines: int = 6) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines()[:lines])[:500]


def load_bundle(
    store: BundleStore,
    manifest_bytes: bytes,
    samples: Sequence[dict[str, Any]] = (),
    budget_seconds: float | None = None,
) -> CompiledPolicy:
    """Fetch the files a manifest names, verify every digest, and compile (within the budget on ``samples``)."""
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
    revision, entrypoint = manifest.revision, manifest.entrypoint
    return compile_bundle(
        files, revision=revision, entrypoint=entrypoint, samples=samples, budget_seconds=budget_seconds
    )


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
