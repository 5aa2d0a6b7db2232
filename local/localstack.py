"""LocalStack 4.14.0 on the host, without Docker or a token, installed on first use into ``.emulators/``.

Recipe (``../shared/DESIGN.md``): a Python 3.13 venv with LocalStack's pinned runtime requirements and
``localstack-core`` over them with ``--no-deps``; DynamoDB Local, a Java home and a no-op stand-in for
its Java agent placed where LocalStack's DynamoDB provider looks, so it downloads nothing. LocalStack's
DynamoDB child would listen on every interface, so the agent it is given binds it to 127.0.0.1;
``make test-localstack`` still runs inside ``unshare -n``, so that nothing of the suite leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local import dynamodb_local
from local.template import ROOT

VERSION = "4.14.0"
VENV = dynamodb_local.EMULATORS / f"localstack-{VERSION}"
PYTHON = VENV / "bin" / "python"
PINS = ROOT.parent / "shared" / "localstack" / f"runtime-pins-{VERSION}.txt"
AGENT_JAR = "ddb-local-loader-0.1.jar"  # the Java agent it would download (it only lifts the 20-GSI limit)
START_TIMEOUT_SECONDS = 120.0


def install() -> None:
    """The venv (Python 3.13: 4.14.0 fails on 3.12), DynamoDB Local and the agent, each once."""
    dynamodb_local.install()
    if not (VENV / ".installed").exists():
        shutil.rmtree(VENV, ignore_errors=True)
        env = {**os.environ, "PYENV_VERSION": "3.13.0"}
        subprocess.run(["python3.13", "-m", "venv", str(VENV)], check=True, env=env)
        pip = [str(PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        # Unpinned installs pull cbor2 6 and pyOpenSSL 26, which break 4.14.0.
        subprocess.run([*pip, "-r", str(PINS)], check=True)
        subprocess.run([*pip, "--no-deps", f"localstack-core=={VERSION}"], check=True)
        (VENV / ".installed").touch()


def prepare_root(root: Path) -> None:
    """Place DynamoDB Local, a Java home and the agent under ``root/var/lib/localstack/lib/``.

    The agent is ``LoopbackDynamoDBLocal``: it serves DynamoDB Local on 127.0.0.1 instead of every interface.
    """
    lib = root / "var" / "lib" / "localstack" / "lib"
    jars = lib / "dynamodb-local" / "2"
    if not jars.exists():
        # Hard links: the jar folder is ~70 MB and the same on every run.
        shutil.copytree(dynamodb_local.install(), jars, copy_function=os.link)
        shutil.copy(dynamodb_local.LAUNCHER_JAR, jars / AGENT_JAR)
    java_home = lib / "java" / "21"  # the machine's JDK 17 serves as the Java 21 it asks for
    if not java_home.exists():
        java_home.parent.mkdir(parents=True, exist_ok=True)
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("LocalStack's DynamoDB needs Java 17 or later on PATH")
        java_home.symlink_to(Path(java).resolve().parent.parent)


@dataclass
class LocalStack:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop LocalStack and every process it started (its DynamoDB Local's Java), by PID."""
        children = _descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start(root: Path, port: int, log: Path) -> LocalStack:
    """Start LocalStack on 127.0.0.1:``port`` with its files under ``root``; wait until it answers."""
    install()
    prepare_root(root)
    env = {
        **os.environ,
        "OVERRIDE_IN_DOCKER": "0",  # else it writes to /var/lib/localstack and /etc/localstack
        "FILESYSTEM_ROOT": str(root),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_SERVER": "hypercorn",  # 4.14.0's default (twisted) binds 0.0.0.0 whatever GATEWAY_LISTEN says
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        "LOCALSTACK_CLI": "0",
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "PYTHONPATH"):
        env.pop(name, None)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [str(PYTHON), "-m", "localstack.runtime.main"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    stack = LocalStack(process, port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LocalStack exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{stack.endpoint_url}/_localstack/health", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return stack
        except OSError:
            time.sleep(0.5)
    stack.stop()
    raise RuntimeError(f"LocalStack did not answer within {START_TIMEOUT_SECONDS:.0f} s; see {log}")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def main() -> None:
    """``make localstack``: one LocalStack in the foreground for ``make run``, until Ctrl-C."""
    import tempfile

    port = int(os.environ.get("LOCALSTACK_PORT", "4566"))
    with tempfile.TemporaryDirectory(prefix="localstack-", dir=dynamodb_local.EMULATORS) as root:
        print(f"starting LocalStack {VERSION} on 127.0.0.1:{port} (its log: {root}/localstack.log)", flush=True)
        stack = start(Path(root), port, Path(root) / "localstack.log")
        print(f"LocalStack ready: AWS_ENDPOINT_URL={stack.endpoint_url} make run; Ctrl-C stops it", flush=True)
        done = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: done.set())
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            done.wait()
        finally:
            stack.stop()
            print("stopped", flush=True)


if __name__ == "__main__":
    main()
