"""The check: may engine E do action A on platform P, decided, counted and audited (single and batch)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from typing import Any, NamedTuple

from puraify.audit import Status
from puraify.auth import ON_BEHALF_SCOPE, Principal
from puraify.clock import now
from puraify.engine_control import models as m
from puraify.engine_control.base import EngineControlBase
from puraify.engine_control.decisions import Decision, Step, evaluate, explanation
from puraify.engine_control.records import Catalog, EngineRecord
from puraify.errors import (
    ForbiddenError,
    NotFoundError,
    PuraifyError,
    UnavailableError,
)


def _counted(status: str) -> str:
    """A check's status as the console counts it: ``error`` (not decided) is ``failed``."""
    return "failed" if status == "error" else status


class Checked(NamedTuple):
    """One decided check: its audit record, its reply, and the error that stopped it (if one did)."""

    record: dict[str, Any]
    reply: dict[str, Any]  # an ActionCheckResponse's fields, in its order (tests compare it with the model)
    rule: str | None = None
    error: PuraifyError | None = None


class _Once:
    """What a batch reads and decides once: the catalog, each engine's record, each distinct question."""

    __slots__ = ("_catalog", "_read", "_read_engine", "decisions", "engines")

    def __init__(self, read_catalog: Callable[[], Catalog], read_engine: Callable[[str], EngineRecord | None]):
        self._read, self._read_engine = read_catalog, read_engine
        self._catalog: Catalog | None = None
        self.engines: dict[str, EngineRecord | None] = {}
        self.decisions: dict[tuple[str, str, str, str | None], Decision] = {}

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._read()
        return self._catalog

    def engine(self, engine_id: str) -> EngineRecord | None:
        if engine_id in self.engines:
            return self.engines[engine_id]
        record = self.engines[engine_id] = self._read_engine(engine_id)
        return record


class Checks(EngineControlBase):
    def check(self, caller: Principal, body: m.ActionCheckRequest, request_id: str) -> dict[str, Any]:
        """Decide and audit one action check: an ``ActionCheckResponse``'s fields, ready to serialise.

        Fails closed: an undecidable check raises 503. The reply is built from typed values, so it is
        not validated again (that was a tenth of a check); a test holds it to the model.
        """
        checked = self._decide(caller, body, request_id, now(), self.catalog)
        try:
            if checked.error is not None:
                with suppress(UnavailableError):  # the error being raised tells the caller; the line was written
                    self.audit.write(checked.record)
                self._count(checked.record, checked.rule)
                raise checked.error
            try:
                self.audit.write(checked.record)
            except PuraifyError:
                self._count(checked.record | {"status": "error"})  # an unaudited decision is not made
                raise
            self._count(checked.record, checked.rule)
            return checked.reply
        finally:
            self.counter.flush_if_due()

    def check_many(self, caller: Principal, body: m.ActionCheckBatchRequest, request_id: str) -> dict[str, Any]:
        """Decide up to 25 checks, audited in one store write; one result per check, in order
        (an ``ActionCheckBatchResponse``'s fields, like ``check``'s reply).

        A check the caller may not make (another engine's without ``checks:on_behalf``, an unknown engine) is
        a denial in its place. Fails closed as a whole: if one check cannot be decided, or the audit
        write fails, the batch raises 503 and every check is audited as an error.
        """
        self.auth.charge(caller, len(body.checks) - 1)  # a batch of N counts N (admission took one)
        at = now()
        once = _Once(self.catalog, self.auth.engine)
        checked = [
            self._decide(caller, check, request_id, at, once.catalog, item, once.engine, once.decisions)
            for item, check in enumerate(body.checks)
        ]
        try:
            answer = self._answer_batch(checked, request_id)
        finally:
            self.counter.flush_if_due()
        self.auth.require_not_suspended(caller)  # its checks were audited as denied; the answer is 403
        return answer

    def _answer_batch(self, checked: list[Checked], request_id: str) -> dict[str, Any]:
        failure = next((c.error for c in checked if c.error is not None and c.error.status not in (403, 404)), None)
        if failure is None:
            try:
                self.audit.write_many([c.record for c in checked])
            except PuraifyError as error:
                failure = error
        if failure is not None:
            reason = f"batch not decided: {failure.message}"
            failed = [c.record | {"status": "error", "reason": reason} for c in checked]
            with suppress(UnavailableError):
                self.audit.write_many(failed)
            for record in failed:
                self._count(record)
            raise failure
        # One moment and one caller for the whole batch: its checks are tallied by outcome, then counted.
        at, caller_id = checked[0].record["timestamp"], checked[0].record["caller_id"]
        outcomes = Counter((c.record["status"], c.rule) for c in checked)
        self.counter.count_many({(at, _counted(status), rule, caller_id): n for (status, rule), n in outcomes.items()})
        return {"results": [c.reply for c in checked], "request_id": request_id}

    def _decide(
        self,
        caller: Principal,
        body: m.ActionCheckRequest,
        request_id: str,
        at: float,
        catalog: Callable[[], Catalog],
        item: int | None = None,
        engine_of: Callable[[str], EngineRecord | None] | None = None,
        decided: dict[tuple[str, str, str, str | None], Decision] | None = None,
    ) -> Checked:
        """The check's reply (a denial naming the error, if one stops it) and its audit record, not yet written.
        ``decided`` holds a batch's decisions by question: a question asked again is not evaluated again
        (a batch reads one engine record and one catalog at one moment, so the answer is the same).

        The record names the caller beside the checked engine and lives in the caller's partition, so
        it never moves another engine's ``last_seen_at``. A check refused before it is decided is
        filed under a project only if the caller holds that project (the project it asked for is kept
        in ``details``): a caller cannot write into another project's timeline.
        """
        engine_id = body.engine_id or caller.engine_id
        error: PuraifyError | None = None
        steps: list[Step] | None = [] if body.explain else None
        engine: EngineRecord | None = None
        read: Catalog | None = None
        try:
            self.auth.require_not_suspended(caller)
            if engine_id != caller.engine_id:
                self._may_ask_for(caller, engine_id, body.project_id, steps)
            engine = (engine_of or self.auth.engine)(engine_id)
            read = catalog()
            if decided is None or steps is not None:  # a single check, or one that records its steps
                decision = evaluate(
                    engine_id, engine, read, body.platform, body.action_type, body.project_id, steps, at
                )
            else:
                question = (engine_id, body.platform, body.action_type, body.project_id)
                known = decided.get(question)
                if known is None:
                    known = decided[question] = evaluate(
                        engine_id, engine, read, body.platform, body.action_type, body.project_id, None, at
                    )
                decision = known
            if decision.rule == "engine_not_found":
                raise NotFoundError(decision.reason or "", code="engine_not_found")
            if decision.rule == "project_not_granted":
                raise ForbiddenError(decision.reason or "", code="project_not_granted")
        except PuraifyError as failed:
            error = failed
            decision = Decision(False, failed.code, failed.message)
        project_id, flow_id = body.project_id, body.flow_id
        details: dict[str, Any] | None = {"rule": decision.rule} if decision.rule else None
        if error is None:
            status: Status = "allowed" if decision.allowed else "denied"
        else:
            status = "denied" if error.status in (403, 404) else "error"
            if project_id is not None and not caller.has_project(project_id):
                details = {"rule": decision.rule, "project_id": project_id, "flow_id": flow_id}
                project_id = flow_id = None
        record = self.audit.build(
            kind="check",
            request_id=request_id,
            engine_id=engine_id,
            caller_id=caller.engine_id,
            status=status,
            platform=body.platform,
            action_type=body.action_type,
            reason=decision.reason,
            project_id=project_id,
            flow_id=flow_id,
            details=details,
            at=at,
            item=item,
        )
        reply = {
            "allowed": decision.allowed,
            "required_scopes": decision.required_scopes,
            "reason": decision.reason,
            "rule": decision.rule,
            "engine_id": engine_id,
            "platform": body.platform,
            "action_type": body.action_type,
            "request_id": request_id,
        }
        if steps is not None:
            reply["explanation"] = explanation(decision, steps, engine, read)
        return Checked(record, reply, decision.rule, error)

    @staticmethod
    def _may_ask_for(caller: Principal, engine_id: str, project_id: str | None, steps: list[Step] | None) -> None:
        """403 unless the caller may check another engine (``checks:on_behalf``) in ``project_id``."""
        if not caller.has_scope(ON_BEHALF_SCOPE):
            if steps is not None:
                steps.append(("on_behalf", "fail", f"checking another engine needs the '{ON_BEHALF_SCOPE}' scope"))
            raise ForbiddenError(f"checking another engine needs the '{ON_BEHALF_SCOPE}' scope", code="missing_scope")
        if project_id is not None and not caller.has_project(project_id):
            if steps is not None:
                steps.append(("on_behalf", "fail", f"engine '{caller.engine_id}' does not hold project '{project_id}'"))
            caller.require_project(project_id)
        if steps is not None:
            steps.append(("on_behalf", "pass", f"engine '{caller.engine_id}' may check engine '{engine_id}'"))

    def _count(self, record: dict[str, Any], rule: str | None = None) -> None:
        self.counter.count(record["timestamp"], _counted(record["status"]), rule, record["caller_id"])
