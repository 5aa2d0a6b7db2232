"""``make invoke FUNCTION=CheckFunction EVENT=events/check/check.json``: one handler on one event.

Like ``sam local invoke``: the function's own ``lambda_handler`` runs in this process on the event,
and its response is printed on stdout as one JSON document (log lines and a REPORT line: stderr).

Where it runs:
- ``AWS_ENDPOINT_URL`` if set; else the running ``make run`` endpoint on 127.0.0.1:4566 if one
  answers there (with its DynamoDB Local on 127.0.0.1:4567 when that answers); else an embedded
  moto server of its own on a free port, with the template's resources, the starter catalog, the
  shipped gate, engine ``admin`` and engine ``action`` as ``events/register/register.json`` makes
  it, which the other events name (its state is discarded).

Credentials: an event's ``x-engine-id`` / ``x-engine-key`` headers (the events in ``events/`` carry
a placeholder key) are replaced by a named engine's: ``PURAIFY_ENGINE_ID`` and
``PURAIFY_ENGINE_KEY`` when both are set (the CLI's variables), else engine ``admin`` with
``PURAIFY_ADMIN_KEY`` (against ``make run``: the key it printed or was given). Events without
credential headers (``/health``, schedules) are sent as they are.

``--event-only`` prints the event with the credentials replaced instead of invoking it: the input
for ``sam local invoke -e -`` on a machine with Docker (README: "Invoking one function").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import ROOT, Function, Template

# make run's endpoints (its PURAIFY_AWS_PORT and PURAIFY_DYNAMODB_PORT, when given)
RUNNING_ENDPOINT = ("127.0.0.1", int(os.environ.get("PURAIFY_AWS_PORT") or 4566))
RUNNING_DYNAMODB = ("127.0.0.1", int(os.environ.get("PURAIFY_DYNAMODB_PORT") or 4567))
SAM_ENV_VARS = ROOT / "local" / "sam-env-vars.json"
DOCKER_HOST_ENDPOINT = "http://host.docker.internal:4566"


def sam_env_vars(template: Template | None = None) -> dict[str, Any]:
    """``sam local invoke --env-vars``: the runner's resource names, and the emulator on the Docker host.

    SAM resolves ``!Ref`` of a resource to its logical id; the runner names buckets in lower case and
    topics by ARN, so every name is given here, from the template, as the runner creates them.
    """
    environment = (template or Template()).environment()
    return {"Parameters": {**dict(sorted(environment.items())), "PURAIFY_AWS_ENDPOINT_URL": DOCKER_HOST_ENDPOINT}}


@dataclass(frozen=True)
class Credentials:
    engine_id: str
    engine_key: str


def credentials(environ: dict[str, str] | os._Environ[str], *, fallback_admin_key: str | None = None) -> Credentials:
    """The named engine's credentials: ``PURAIFY_ENGINE_ID``/``_KEY``, else admin with ``PURAIFY_ADMIN_KEY``."""
    engine_id, engine_key = environ.get("PURAIFY_ENGINE_ID"), environ.get("PURAIFY_ENGINE_KEY")
    if engine_id and engine_key:
        return Credentials(engine_id, engine_key)
    admin_key = environ.get("PURAIFY_ADMIN_KEY") or fallback_admin_key
    if not admin_key:
        raise SystemExit(
            "make invoke: no credentials. Set PURAIFY_ADMIN_KEY (the admin key `make run` printed or was given), "
            "or PURAIFY_ENGINE_ID and PURAIFY_ENGINE_KEY for another engine."
        )
    return Credentials("admin", admin_key)


def carries_credentials(event: dict[str, Any]) -> bool:
    headers = event.get("headers")
    return isinstance(headers, dict) and bool({"x-engine-id", "x-engine-key"} & set(headers))


def with_credentials(event: dict[str, Any], who: Credentials) -> dict[str, Any]:
    """The event with its credential headers replaced by ``who``'s."""
    return {**event, "headers": {**event["headers"], "x-engine-id": who.engine_id, "x-engine-key": who.engine_key}}


def find_function(template: Template, name: str) -> Function:
    """A function by logical id (``CheckFunction``) or folder name (``check``)."""
    functions = template.functions()
    for function in functions.values():
        if name in (function.logical_id, function.folder.name):
            return function
    raise SystemExit(f"make invoke: no function {name!r}; the template has {', '.join(sorted(functions))}")


def _answers(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex((host, port)) == 0


@contextlib.contextmanager
def endpoint(
    environ: dict[str, str] | os._Environ[str], *, example_engine: bool = True
) -> Iterator[tuple[str, str | None]]:
    """(AWS endpoint URL, admin key of an embedded endpoint or None), with this process pointed at it.

    An embedded endpoint also holds the engine the example events name (``action``, as
    ``events/register/register.json`` registers it), unless ``example_engine`` is False (the event
    invoked is that registration)."""
    from local.runner import LocalControlPlane, aws_environment

    given = environ.get("AWS_ENDPOINT_URL")
    if given or _answers(*RUNNING_ENDPOINT):
        url = given or "http://{}:{}".format(*RUNNING_ENDPOINT)
        if not given and not environ.get("AWS_ENDPOINT_URL_DYNAMODB") and _answers(*RUNNING_DYNAMODB):
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = "http://{}:{}".format(*RUNNING_DYNAMODB)
        template = Template()
        os.environ.update(aws_environment(url))
        from local.resources import create_all

        create_all(template)  # only what is missing (an endpoint older than the template)
        os.environ.update(template.environment())
        _reset_runtime()
        yield url, None
        return
    from local.runner import start_moto

    server = start_moto(port=0)
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    plane = LocalControlPlane(
        port=0, endpoint_url=url, admin_key=environ.get("PURAIFY_ADMIN_KEY") or None, schedules=False
    )
    try:
        plane.start()
        admin_key = plane.admin_key_shown or environ.get("PURAIFY_ADMIN_KEY")
        assert admin_key is not None
        if example_engine:
            with logs_to_stderr():
                _register_example_engine(admin_key)
        held = " and engine 'action' (events/register/register.json)" if example_engine else ""
        print(
            f"make invoke: no endpoint on {':'.join(map(str, RUNNING_ENDPOINT))}; using an embedded one on {url} "
            "with the starter catalog, "
            f"the shipped gate, engine 'admin'{held}; its state is discarded",
            file=sys.stderr,
        )
        yield url, admin_key
    finally:
        plane.stop()
        server.stop()


EXAMPLE_ENGINE_EVENT = ROOT / "events" / "register" / "register.json"


def _register_example_engine(admin_key: str) -> None:
    """Engine ``action`` as the register event makes it: the check, log and other events name it."""
    from puraify import wiring
    from puraify.engine_control.models import EngineRegisterRequest

    current = wiring.current()
    body = EngineRegisterRequest.model_validate_json(json.loads(EXAMPLE_ENGINE_EVENT.read_text())["body"])
    current.engine_control.register(current.auth.authenticate("admin", admin_key), body, "make-invoke-example")


def _registers_the_example_engine(event: dict[str, Any]) -> bool:
    example = json.loads(json.loads(EXAMPLE_ENGINE_EVENT.read_text())["body"])["engine_id"]
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        return False
    registers = event.get("routeKey") == "POST /engines/register"
    return registers and isinstance(body, dict) and body.get("engine_id") == example


def _reset_runtime() -> None:
    core = str(ROOT / "layers" / "core")
    if core not in sys.path:
        sys.path.insert(0, core)
    from puraify import wiring

    wiring.reset()


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """The function's log lines (Powertools writes them to stdout) go to stderr, as ``sam local`` shows them."""
    streams = [h for h in logging.getLogger("puraify").handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(sys.stderr) for h in streams]
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for handler, stream in zip(streams, previous, strict=True):
            if stream is not None:
                handler.setStream(stream)


def invoke(function: Function, event: dict[str, Any]) -> Any:
    """Call the function's real ``lambda_handler`` on ``event``; returns what it returns."""
    from local.gateway import LambdaContext, load_handler

    handler = load_handler(function)
    request_id = (event.get("requestContext") or {}).get("requestId") or event.get("id") or "make-invoke"
    with logs_to_stderr():
        return handler(event, LambdaContext(function.logical_id, request_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", nargs="?", help="logical id (CheckFunction) or folder (check)")
    parser.add_argument("event", nargs="?", type=Path, help="an event file, e.g. events/check/check.json")
    parser.add_argument("--event-only", action="store_true", help="print the event with credentials, do not invoke")
    parser.add_argument("--write-sam-env-vars", action="store_true", help=f"(re)write {SAM_ENV_VARS.name} and exit")
    args = parser.parse_args(argv)
    if args.write_sam_env_vars:
        SAM_ENV_VARS.write_text(json.dumps(sam_env_vars(), indent=2) + "\n")
        return 0
    if not args.function or not args.event:
        parser.error("give FUNCTION and EVENT")
    event = json.loads(args.event.read_text())
    template = Template()
    function = find_function(template, args.function)
    if args.event_only:
        print(json.dumps(with_credentials(event, credentials(os.environ)) if carries_credentials(event) else event))
        return 0
    with endpoint(os.environ, example_engine=not _registers_the_example_engine(event)) as (_, embedded_admin_key):
        if carries_credentials(event):
            event = with_credentials(event, credentials(os.environ, fallback_admin_key=embedded_admin_key))
        started = time.perf_counter()
        result = invoke(function, event)
        took = (time.perf_counter() - started) * 1000
    print(f"REPORT {function.logical_id} Duration: {took:.2f} ms", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
