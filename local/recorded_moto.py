"""A moto server whose state survives a restart: a journal of the requests that change it.

moto keeps its state in memory only. Each request that changes it (S3 PUT/POST/DELETE, an action not
named ``Get``/``List``/``Describe``/``Head``...) is appended to the journal before moto serves it, one
JSON line each; reads and notifications (SNS ``Publish``: delivered, not kept) are not recorded. The
next start replays the journal in process (no HTTP), then compacts it: requests moto refused, and every
request about a secret later deleted for good (a preview's), are dropped. So the journal grows with
what the state holds, not with traffic, and a restart takes about as long after 20,000 calls as fresh.

moto makes up ids (S3 version ids, which the policy manifests name) from one seedable random source,
and every answer, reads included, draws a request id from it. So that a replay without the reads hands
out the same ids, the source is reseeded before each recorded request from that request's sequence
number, which its line keeps. Lines without one (a journal recorded before this scheme, reads included)
are replayed first, in order, from the one start seed, as they were recorded; they are kept as they are.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEED = 20260101
READ_ACTIONS = ("Get", "List", "Describe", "Head", "BatchGet", "Query", "Scan")
NOT_STATE = frozenset({"Publish", "PublishBatch"})
HEADER = "journal"


def action_of(headers: dict[str, str], query: str, body: bytes) -> str | None:
    """The API action a request names (``X-Amz-Target`` or ``Action=``); None for REST (S3) requests."""
    lowered = {k.lower(): v for k, v in headers.items()}
    target = lowered.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    found = parse_qs(query).get("Action")
    if not found and body and "form-urlencoded" in lowered.get("content-type", ""):
        found = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return found[0] if found else None


def changes_state(method: str, path: str, headers: dict[str, str], query: str, body: bytes) -> bool:
    """Whether moto's state may change by this request (conservative: what is not known to read, writes)."""
    if path.startswith("/moto-api/"):
        return False
    action = action_of(headers, query, body)
    if action is None:
        return method not in ("GET", "HEAD", "OPTIONS")
    return not action.startswith(READ_ACTIONS) and action not in NOT_STATE


def cache_service_list() -> None:
    """moto's dispatcher lists its ~180 service folders (a stat each) twice per request, half of a request's
    time; the list cannot change while the server runs, so it is read once."""
    from moto import backends

    names = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: iter(names)


class RecordedMoto:
    """moto on 127.0.0.1:``port``, journaling to ``recording`` and replaying it at start."""

    def __init__(self, recording: Path, port: int):
        self.recording = recording
        self.port = port
        self.replayed = 0
        self.dropped = 0
        self.replay_seconds = 0.0
        self._next_seq = 1
        self._journal: io.TextIOWrapper | None = None
        self._app: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._original: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Replay and compact the journal (if any), then serve, journaling each change from here on."""
        from moto.moto_api import recorder
        from moto.moto_api._internal import mock_random
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from local import moto_reads, moto_transactions

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._app = DomainDispatcherApplication(create_backend_app)
        moto_transactions.apply()
        moto_reads.apply()
        cache_service_list()
        handler = MotoRequestHandler
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=False, request_handler=handler)
        self.port = self._server.server_address[1]
        mock_random.seed(SEED)
        self.recording.parent.mkdir(parents=True, exist_ok=True)
        if self.recording.exists() and self.recording.stat().st_size:
            started = time.monotonic()
            self._replay_and_compact()
            self.replay_seconds = time.monotonic() - started
        self._journal = self.recording.open("a", encoding="utf-8")
        self._original = recorder._record_request  # noqa: SLF001 - the one hook moto calls before serving
        recorder._record_request = self._record  # type: ignore[method-assign]  # noqa: SLF001
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    # --- the journal -----------------------------------------------------------------------

    def _record(self, request: Any, body: bytes | None = None) -> None:
        """moto's recorder hook, called in the server's one thread just before a request is served."""
        if request.environ.get("SERVER_PORT") != str(self.port) or self._journal is None:
            return  # another in-process moto server's request
        data = body if body is not None else _read_body(request)
        query = request.query_string.decode()
        headers = dict(request.headers)
        if not changes_state(request.method, request.path, headers, query, data):
            return
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        entry = {"seq": seq, "method": request.method, "url": request.raw_url, "headers": headers, **_encoded(data)}
        self._journal.write(json.dumps(entry) + "\n")
        self._journal.flush()  # before moto serves it: a kill -9 loses only an unanswered request
        _reseed(seq)

    def _replay_and_compact(self) -> None:
        from moto.moto_api._internal import mock_random

        lines = self.recording.read_text(encoding="utf-8").splitlines()
        legacy: list[str] = []
        kept: list[tuple[dict[str, Any], str]] = []
        journaled = 0
        for number, line in enumerate(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                if number == len(lines) - 1:
                    continue  # cut short by a kill while it was written: that request was never served
                raise
            if HEADER in entry:
                self._next_seq = max(self._next_seq, int(entry["next_seq"]))
                continue
            if "seq" not in entry:
                legacy.append(line)
                self._replay(entry)
                continue
            journaled += 1
            self._next_seq = max(self._next_seq, int(entry["seq"]) + 1)
            _reseed(int(entry["seq"]))
            if self._replay(entry) < 400:
                kept.append((entry, line))
        compacted = _compacted(kept)
        self.replayed = len(legacy) + journaled
        self.dropped = journaled - len(compacted)
        mock_random.seed(SEED)  # as a fresh start: the next recorded request reseeds from its own number
        temporary = self.recording.with_suffix(".compacting")
        with temporary.open("w", encoding="utf-8") as out:
            out.write(json.dumps({HEADER: 2, "next_seq": self._next_seq}) + "\n")
            out.writelines(line + "\n" for line in [*legacy, *compacted])
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.recording)

    def _replay(self, entry: dict[str, Any]) -> int:
        """Serve one journaled request to moto in process; returns its status."""
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        url = urlsplit(entry["url"])
        headers = {k: v for k, v in entry["headers"].items() if k.lower() != "transfer-encoding"}
        body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else (entry.get("body") or "").encode()
        builder = EnvironBuilder(
            path=url.path, query_string=url.query, method=entry["method"], headers=headers, data=body
        )
        environ = builder.get_environ()
        environ["RAW_URI"] = url.path + (f"?{url.query}" if url.query else "")
        app_iter, status, _ = run_wsgi_app(self._app, environ)
        for _ in app_iter:
            pass
        if hasattr(app_iter, "close"):
            app_iter.close()
        return int(status.split(" ", 1)[0])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._original is not None:
            from moto.moto_api import recorder

            recorder._record_request = self._original  # type: ignore[method-assign]  # noqa: SLF001
            self._original = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _read_body(request: Any) -> bytes:
    """The request body, left readable for moto (as moto's own recorder does)."""
    try:
        size = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        size = 0
    data = request.environ["wsgi.input"].read(size) if size else b""
    request.environ["wsgi.input"] = io.BytesIO(data)
    return data if isinstance(data, bytes) else str(data).encode()


def _encoded(data: bytes) -> dict[str, Any]:
    return {"body": base64.b64encode(data).decode("ascii"), "body_encoded": True}


def _reseed(seq: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(f"{SEED}/{seq}")


def _secret_of(entry: dict[str, Any]) -> tuple[str | None, bool]:
    """(the secret a Secrets Manager request names, whether it deletes it for good)."""
    target = {k.lower(): v for k, v in entry["headers"].items()}.get("x-amz-target", "")
    if not target.startswith("secretsmanager."):
        return None, False
    try:
        fields = json.loads(base64.b64decode(entry["body"]) if entry.get("body_encoded") else entry.get("body") or "{}")
    except ValueError:
        return None, False
    name = fields.get("SecretId") or fields.get("Name")
    forced = target.endswith(".DeleteSecret") and bool(fields.get("ForceDeleteWithoutRecovery"))
    return (name if isinstance(name, str) else None), forced


def _setting(entry: dict[str, Any]) -> tuple[str, str] | None:
    """(what, to what) for a request that sets something the same however often it is repeated (what every
    start of the runner sends: a bucket's configuration, a topic's creation); None for any other."""
    url = urlsplit(entry["url"])
    body = entry.get("body") or ""
    if entry["method"] == "PUT" and url.query and url.path.strip("/") and "/" not in url.path.strip("/"):
        return f"{url.path}?{url.query}", body
    data = base64.b64decode(body) if entry.get("body_encoded") else body.encode()
    if action_of(entry["headers"], url.query, data) == "CreateTopic":
        return body, ""
    return None


def _compacted(kept: list[tuple[dict[str, Any], str]]) -> list[str]:
    """The lines, less those about a secret deleted for good later on (the deletion included) and the
    repeats of a setting that set it to what it already was."""
    gone_at: dict[str, int] = {}
    for position, (entry, _) in enumerate(kept):
        name, forced = _secret_of(entry)
        if name and forced:
            gone_at[name] = position
    compacted = []
    settings: dict[str, str] = {}
    for position, (entry, line) in enumerate(kept):
        name, _ = _secret_of(entry)
        if name is not None and position <= gone_at.get(name, -1):
            continue
        setting = _setting(entry)
        if setting is not None:
            what, value = setting
            if settings.get(what) == value:
                continue
            settings[what] = value
        compacted.append(line)
    return compacted
