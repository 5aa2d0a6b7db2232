"""``make run``: the whole control plane on one machine.

1. An AWS endpoint: ``AWS_ENDPOINT_URL`` if set, else the embedded one, which keeps its state in
   ``.puraify/state/`` (``PURAIFY_STATE_DIR``; ``make reset`` wipes it): DynamoDB on DynamoDB Local
   with ``-dbPath`` on 127.0.0.1:4567 (``PURAIFY_DYNAMODB_PORT``), everything else on moto on
   127.0.0.1:4566 (``PURAIFY_AWS_PORT``), replaying the journal of the requests that changed its state at start.
2. The template's tables, buckets and topics, created from ``template.yaml`` itself.
3. Engine ``admin`` (``PURAIFY_ADMIN_KEY``, or a generated key printed once), a starter catalog and
   the shipped policy bundle (``policies/gate``), each only if none is there yet.
4. The template's routes on 127.0.0.1:3000 (``PURAIFY_PORT``), handlers called in-process, and
   also on a Unix domain socket when ``PURAIFY_SOCKET`` names one (mode 0600).
5. The template's schedules, fired by a timer (no emulator fires EventBridge schedules), at least every
   10 s (``PURAIFY_SCHEDULE_SECONDS``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import REGION, ROOT, Template

SEED = Path(__file__).resolve().parent / "seed" / "catalog.json"


STATE = ROOT / ".puraify" / "state"


def ensure_free(port: int, what: str, hint: str) -> None:
    """Exit with a clear message if ``port`` on 127.0.0.1 is taken (instead of a thread dying later)."""
    with socket.socket() as probe:
        # As the servers themselves do: a port whose last connections are in TIME-WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} ({what}) is already in use: {hint}") from None


def ensure_socket_path(path: str) -> None:
    """Exit with a clear message unless a Unix socket can be served at ``path``: nothing there yet, or
    a socket that no running server answers on (left by a run that did not stop cleanly)."""
    target = Path(path)
    if len(os.fsencode(path)) > 107:
        raise SystemExit(f"PURAIFY_SOCKET {path} is too long for a Unix socket (107 bytes at most): use a shorter one")
    if not target.parent.is_dir():
        raise SystemExit(f"PURAIFY_SOCKET {path}: its folder {target.parent} does not exist")
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_socket():
        kind = "a folder" if target.is_dir() else "a broken link" if not target.exists() else "a regular file"
        raise SystemExit(
            f"PURAIFY_SOCKET {path} is {kind}, not a socket: remove it yourself if it is not needed, "
            "or set PURAIFY_SOCKET to another path (the runner never deletes what is not a socket)"
        )
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(1)
        try:
            probe.connect(path)
        except OSError:
            return  # nothing answers: a stale socket, replaced at start
    raise SystemExit(f"PURAIFY_SOCKET {path} is in use by a running server: stop it, or set PURAIFY_SOCKET elsewhere")


def start_moto(host: str = "127.0.0.1", port: int = 4566) -> Any:
    """An in-process moto server (LocalStack's port and wire protocol), keeping nothing."""
    import logging

    from moto.server import ThreadedMotoServer

    from local import moto_reads, moto_transactions
    from local.recorded_moto import cache_service_list

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_transactions.apply()
    moto_reads.apply()
    cache_service_list()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """Credentials and region for an emulated endpoint (never real ones)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of ``rate(N unit)``; None for cron expressions."""
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


@dataclass
class LocalControlPlane:
    """Everything ``make run`` starts, startable from tests too (with another port and prefix)."""

    port: int = 3000
    endpoint_url: str | None = None
    admin_key: str | None = None
    prefix: str = ""
    schedules: bool = True
    # Locally every rate() schedule fires at least this often, so a 20-second deployment bake ends
    # within about half a minute instead of the minute or more EventBridge would take.
    schedule_max_seconds: float = 10.0
    aws_port: int = 4566
    dynamodb_port: int = 4567
    state_dir: Path | None = None  # None: the embedded endpoint keeps nothing
    socket_path: str | None = None
    admin_key_shown: str | None = None
    base_url: str = ""
    notes: list[str] = field(default_factory=list)
    _moto: Any = None
    _dynamodb: Any = None
    _server: Any = None
    _account: str = ""
    _unix_server: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        if self.port:
            ensure_free(self.port, "the API", "stop what runs there, or set PURAIFY_PORT to another port")
        if self.socket_path:
            ensure_socket_path(self.socket_path)
        if self.endpoint_url is None:
            self._start_embedded()
        assert self.endpoint_url is not None
        template = Template(prefix=self.prefix)
        os.environ.update(aws_environment(self.endpoint_url))

        from local.resources import create_all

        create_all(template)
        os.environ.update(template.environment())
        self._account = template.account

        sys.path.insert(0, str(ROOT / "layers" / "core"))
        from puraify import wiring
        from puraify.engine_control.bootstrap import ensure_admin, seed_catalog
        from puraify.errors import PuraifyError

        wiring.reset()
        current = wiring.current()
        try:
            self.admin_key_shown, _ = ensure_admin(current.engines, self.admin_key)
            if self.admin_key and not self._check_admin_key(current, self.admin_key):
                self.notes.append(
                    "engine 'admin' does not hold the 'admin' scope (an admin changed it; restarts keep that): "
                    "PURAIFY_ADMIN_KEY authenticates it with the scopes it has, use another admin engine to administer"
                )
        except PuraifyError as error:
            self.stop()
            raise SystemExit(f"cannot start: {error.message}") from error
        seed_catalog(current.catalog, json.loads(SEED.read_text()))
        self._publish_default_policy(current.settings.policy_bucket)

        from local.gateway import Gateway, make_server, serve_in_background

        gateway = Gateway(template)
        self._server = make_server(gateway, "127.0.0.1", self.port)
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        serve_in_background(self._server)
        if self.socket_path:
            from local.gateway import make_unix_server

            self._unix_server = make_unix_server(gateway, self.socket_path)
            serve_in_background(self._unix_server)
        if self.schedules:
            self._start_schedules(gateway, template)

    def _start_embedded(self) -> None:
        ensure_free(
            self.aws_port,
            "the embedded AWS endpoint",
            "stop what runs there, set PURAIFY_AWS_PORT to another port, or AWS_ENDPOINT_URL to use it",
        )
        from local import dynamodb_local

        missing = dynamodb_local.missing_tools() if self.state_dir is not None else []
        if self.state_dir is None or missing:
            if missing:
                self.notes.append(f"state is NOT kept across restarts: {', '.join(missing)} not found (Java 17, npm)")
            self._moto = start_moto(port=self.aws_port)
            host, port = self._moto.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            return
        ensure_free(self.dynamodb_port, "DynamoDB Local", "stop what runs there, or set PURAIFY_DYNAMODB_PORT")
        from local.recorded_moto import RecordedMoto

        self._dynamodb = dynamodb_local.start(self.state_dir / "dynamodb", self.dynamodb_port)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = self._dynamodb.endpoint_url
        self._moto = RecordedMoto(self.state_dir / "moto-recording.jsonl", self.aws_port)
        self._moto.start()
        self.endpoint_url = self._moto.endpoint_url
        self.notes.append(
            f"state kept in {self.state_dir} (DynamoDB Local on {self._dynamodb.endpoint_url}; "
            f"moto replayed {self._moto.replayed} recorded changes in {self._moto.replay_seconds:.1f} s, "
            f"{self._moto.dropped} compacted away); "
            "`make reset` starts empty"
        )

    @staticmethod
    def _check_admin_key(current: Any, key: str) -> bool:
        """PURAIFY_ADMIN_KEY must authenticate engine ``admin``, or nothing starts; True if admin holds ``admin``."""
        from puraify.engine_control.bootstrap import ADMIN_ID
        from puraify.errors import UnauthorizedError

        current.auth.cache.invalidate(ADMIN_ID)
        try:
            principal = current.auth.authenticate(ADMIN_ID, key)
        except UnauthorizedError as error:
            raise UnauthorizedError("PURAIFY_ADMIN_KEY does not authenticate engine 'admin'") from error
        return bool(principal.is_admin)

    @staticmethod
    def _publish_default_policy(bucket: str) -> None:
        """The shipped gate bundle, unless a bundle is already active (never replace an operator's)."""
        from puraify.planning.bundles import MANIFEST_KEY, publish_folder
        from puraify.store.planning import S3BundleStore

        store = S3BundleStore(bucket)
        if store.head(MANIFEST_KEY) is None:
            publish_folder(store, ROOT / "policies" / "gate")

    def _start_schedules(self, gateway: Any, template: Template) -> None:
        for fid, function in template.functions().items():
            for expression in function.schedules:
                interval = rate_seconds(expression)
                if interval is None:
                    print(f"note: {fid} schedule {expression!r} is not fired locally (only rate() is)")
                    continue
                interval = min(interval, self.schedule_max_seconds)
                threading.Thread(
                    target=self._fire, args=(gateway, fid, interval), name=f"schedule-{fid}", daemon=True
                ).start()

    def _fire(self, gateway: Any, function_id: str, interval: float) -> None:
        from local.gateway import LambdaContext

        handler = gateway.handlers[function_id]
        while not self._stop.wait(interval):
            run_id = uuid.uuid4().hex
            event: dict[str, Any] = {
                "version": "0",
                "id": run_id,
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "region": REGION,
                "resources": [f"arn:aws:events:{REGION}:{self._account}:rule/{function_id}"],
                "detail": {},
            }
            try:
                with gateway.locks[function_id]:
                    handler(event, LambdaContext(function_name=function_id, aws_request_id=run_id))
            except Exception as error:  # noqa: BLE001 - a failed run is retried at the next tick
                print(f"schedule {function_id} failed: {error}", file=sys.stderr)

    def stop(self) -> None:
        from puraify import wiring

        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._unix_server is not None:
            self._unix_server.shutdown()
            self._unix_server.server_close()
            Path(self.socket_path or "").unlink(missing_ok=True)
        wiring.close()  # the checks counted since the last flush, while the store still answers
        if self._moto is not None:
            self._moto.stop()
        if self._dynamodb is not None:
            self._dynamodb.stop()


def main() -> None:
    # The functions' CloudWatch metrics (an EMF JSON line per invocation, schedules included) mean nothing
    # without CloudWatch and scrolled the admin key out of view; POWERTOOLS_METRICS_DISABLED=false shows them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    plane = LocalControlPlane(
        port=int(os.environ.get("PURAIFY_PORT", "3000")),
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        admin_key=os.environ.get("PURAIFY_ADMIN_KEY") or None,
        schedule_max_seconds=float(os.environ.get("PURAIFY_SCHEDULE_SECONDS") or 10),
        aws_port=int(os.environ.get("PURAIFY_AWS_PORT", "4566")),
        dynamodb_port=int(os.environ.get("PURAIFY_DYNAMODB_PORT", "4567")),
        state_dir=Path(os.environ.get("PURAIFY_STATE_DIR") or STATE),
        socket_path=os.environ.get("PURAIFY_SOCKET") or None,
    )
    plane.start()
    for note in plane.notes:
        print(note)
    if plane.admin_key_shown and not os.environ.get("PURAIFY_ADMIN_KEY"):
        print(f"admin key (shown once, keep it): {plane.admin_key_shown}")
        print(f"  for the README's curl examples, run: export ADMIN_KEY={plane.admin_key_shown}")
    elif not os.environ.get("PURAIFY_ADMIN_KEY"):
        print("admin key: the one printed at the first start (kept with the state; `make reset` starts anew)")
    print(f"operator console: {plane.base_url}/console/ (engine id admin and the admin key)")
    also = f" and unix://{plane.socket_path}" if plane.socket_path else ""
    print(
        f"PURAIFY control plane ready on {plane.base_url}{also} (AWS endpoint {plane.endpoint_url}); Ctrl-C stops it",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    plane.stop()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
