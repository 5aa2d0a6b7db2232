"""Evaluating a compiled policy bundle with regopy, each decision bounded by its budget.

A bundle is compiled once into a regopy ``Bundle`` (a plan for its entrypoint) and reused for
every decision; input goes in as JSON text or through regopy's C API (its dict conversion
truncates floats). The result is validated: ``allow`` must be a boolean and ``deny`` a list of
strings (a post_deploy decision adds a ``verdict`` and ``notes``), anything else is an evaluation
error, which the caller turns into a denial.

A decision's evaluation runs on the policy's own worker thread (regopy releases the GIL while it
evaluates) and the caller stops waiting at the budget. regopy cannot be interrupted, so a runaway
evaluation finishes in the background; requests that queued behind it and whose caller already
gave up are skipped.
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import regopy
from regopy import rego_shared

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
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # data.json, for settings the engine reads
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
                raise PolicyEvaluationError(f"rego error: {first_lines(str(error))}") from error
        if not ok:
            raise PolicyEvaluationError(f"rego error: {first_lines(raw)}")
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


def first_lines(text: str, lines: int = 6) -> str:
    """The start of an engine's message, on one line (a compile error can run to pages)."""
    return " ".join(line.strip() for line in text.strip().splitlines()[:lines])[:500]
