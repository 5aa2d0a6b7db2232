"""Smaller findings of the security report, replayed against the local runner: nosniff on every JSON answer,
a 400 for a Content-Length that is not a number, a clear stop for a PURAIFY_SOCKET that is not a socket."""

from __future__ import annotations

import os
import socket
import time

import httpx
import pytest

from local.runner import LocalControlPlane, ensure_socket_path

ADMIN_KEY = "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"
ADMIN = {"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}


@pytest.fixture(scope="module")
def http(plane):
    with httpx.Client(base_url=plane.base_url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("GET", "/health", {}, None, 200),
        ("GET", "/engines", ADMIN, None, 200),
        ("POST", "/actions/check", ADMIN, {"platform": "gmail", "action_type": "send_email"}, 200),
        ("POST", "/actions/check", ADMIN, {"platform": 1}, 422),
        ("GET", "/monitoring/logs", {"X-Engine-ID": "admin", "X-Engine-Key": "pfk_wrong"}, None, 401),
        ("GET", "/monitoring/logs", ADMIN, None, 422),
        ("POST", "/engines/register", ADMIN, {"engine_id": "admin"}, 409),
    ],
)
def test_json_answers_say_nosniff(http, method, path, headers, body, status):
    reply = http.request(method, path, headers=headers, json=body)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["x-content-type-options"] == "nosniff"


def _raw(plane, request: bytes) -> bytes:
    """Send ``request`` as it is and read until the server answers and closes (5 s at most)."""
    with socket.create_connection(("127.0.0.1", plane.port), timeout=5) as conn:
        conn.sendall(request)
        received = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
        return received


@pytest.mark.parametrize("length", ["abc", "-1", "-100", "1e3", "0x10", "12, 13", ""])
def test_a_content_length_that_is_not_a_number_is_400_not_a_hang(plane, length):
    # Given a request whose Content-Length is not one non-negative decimal number
    request = (
        f"POST /actions/check HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Engine-ID: admin\r\nX-Engine-Key: {ADMIN_KEY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    if length == "":
        request = request.replace(b"Content-Length: \r\n", b"Content-Length: 5\r\nContent-Length: 6\r\n")
    # When it is sent, and nothing more
    started = time.monotonic()
    answer = _raw(plane, request)
    # Then the gateway answers 400 at once and closes the connection
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"invalid_content_length" in answer
    assert time.monotonic() - started < 4


def test_a_valid_content_length_is_still_served(plane):
    body = b'{"platform": "gmail", "action_type": "send_email"}'
    request = (
        f"POST /actions/check HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Engine-ID: admin\r\nX-Engine-Key: {ADMIN_KEY}\r\n"
        f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    assert _raw(plane, request).startswith(b"HTTP/1.1 200 ")


def test_a_socket_path_that_is_a_regular_file_stops_startup_saying_so(moto_endpoint, tmp_path):
    # Given PURAIFY_SOCKET naming a regular file (a typo, or a file of something else)
    path = tmp_path / "notes.txt"
    path.write_text("keep me")
    saved = dict(os.environ)
    plane = LocalControlPlane(port=0, endpoint_url=moto_endpoint, socket_path=str(path), schedules=False)
    try:
        # When the runner starts, Then it stops at once saying what is wrong, and leaves the file alone
        with pytest.raises(SystemExit) as stopped:
            plane.start()
    finally:
        plane.stop()
        os.environ.clear()
        os.environ.update(saved)
    message = str(stopped.value)
    assert "is a regular file, not a socket" in message and str(path) in message
    assert "Address already in use" not in message
    assert path.read_text() == "keep me"


def test_a_socket_path_is_refused_when_a_server_answers_there_and_taken_over_when_stale(tmp_path):
    live = str(tmp_path / "live.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(live)
        server.listen()
        with pytest.raises(SystemExit, match="in use by a running server"):
            ensure_socket_path(live)
    ensure_socket_path(live)  # closed, the file left behind: stale, so it may be replaced
    with pytest.raises(SystemExit, match="is a folder"):
        ensure_socket_path(str(tmp_path))
    with pytest.raises(SystemExit, match="does not exist"):
        ensure_socket_path(str(tmp_path / "missing" / "x.sock"))
