"""A moto server whose state survives a restart, through moto's own recorder.

moto keeps its state in memory only. Its recorder (``MOTO_ENABLE_RECORDING``, the
``/moto-api/recorder/`` routes) appends every request it serves to a file, one JSON line each,
before serving it; replaying that file into a fresh server rebuilds the state. What moto makes up
(S3 version ids, request ids) comes from its one seedable random source, so the server is seeded
with the same value at every start and serves one request at a time (no thread interleaves its
draws): the replay then hands out the same S3 version ids that the policy manifests name.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

SEED = 20260101


class RecordedMoto:
    """moto on 127.0.0.1:``port``, recording to ``recording`` and replaying it at start."""

    def __init__(self, recording: Path, port: int):
        self.recording = recording
        self.port = port
        self.replayed = 0
        self.replay_seconds = 0.0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve, replay what was recorded (if anything), then record every request from here on."""
        os.environ["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        from moto.moto_api import recorder

        if recorder._location != str(self.recording):  # noqa: SLF001 - read once, at moto's import
            raise RuntimeError("moto was imported before its recording file was set")
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from local import moto_transactions

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = DomainDispatcherApplication(create_backend_app)
        moto_transactions.apply()
        self._server = make_server("127.0.0.1", self.port, app, threaded=False, request_handler=MotoRequestHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

        self._post(f"/moto-api/seed?a={SEED}")
        self.recording.parent.mkdir(parents=True, exist_ok=True)
        if self.recording.exists() and self.recording.stat().st_size:
            started = time.monotonic()
            with self.recording.open() as lines:
                self.replayed = sum(1 for _ in lines)
            # From this thread: the server's one thread serves the replayed requests.
            recorder.replay_recording(target_host=self.endpoint_url)
            self.replay_seconds = time.monotonic() - started
        recorder.start_recording()

    def _post(self, path: str) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}{path}", data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - our own loopback server
            pass

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
