"""``python -m local.around CMD ...``: run CMD against a fresh control plane, then stop it.

The plane is the one ``make run`` starts (``local.runner.LocalControlPlane``) on free ports of 127.0.0.1,
with an embedded moto that keeps nothing and a generated admin key. CMD gets ``PURAIFY_URL``,
``PURAIFY_ENGINE_ID=admin`` and ``PURAIFY_ENGINE_KEY``; its exit code is this command's. The TypeScript
SDK's tests run this way (``make test-ts``).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    command = sys.argv[1:]
    if not command:
        print("usage: python -m local.around CMD [ARG...]", file=sys.stderr)
        return 2
    from local.runner import LocalControlPlane

    saved = dict(os.environ)
    key = "pfk_" + secrets.token_urlsafe(32)
    plane = LocalControlPlane(port=free_port(), aws_port=free_port(), admin_key=key, schedules=False, state_dir=None)
    plane.start()
    try:
        env = {**saved, "PURAIFY_URL": plane.base_url, "PURAIFY_ENGINE_ID": "admin", "PURAIFY_ENGINE_KEY": key}
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        plane.stop()


if __name__ == "__main__":
    sys.exit(main())
