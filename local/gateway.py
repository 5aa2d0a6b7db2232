"""Plays API Gateway (HTTP API, payload format 2.0) on 127.0.0.1 from the template's route table.

Each request becomes the event API Gateway would send, and the function's own ``lambda_handler``
is called in-process; its response becomes the HTTP response.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.template import ROOT, Function, Route, Template

MAX_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit
_loading = threading.RLock()


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def load_handler(function: Function) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Import ``functions/<name>/app.py`` under a unique module name and return its handler."""
    module_file, attr = function.handler.rsplit(".", 1)
    path = function.folder / f"{module_file.replace('.', '/')}.py"
    core = str(ROOT / "layers" / "core")
    if core not in sys.path:
        sys.path.insert(0, core)
    name = f"puraify_function_{function.folder.name}"
    with _loading:  # a module enters sys.modules only once it has loaded completely
        module: ModuleType | None = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
    return getattr(module, attr)


def http_event(method: str, raw_path: str, query: str, headers: dict[str, str], body: bytes, route: Route) -> dict:
    """The API Gateway HTTP API (2.0) event for one request."""
    match = route.pattern.match(raw_path)
    params = match.groupdict() if match else {}
    pairs = parse_qsl(query, keep_blank_values=True)
    query_params: dict[str, str] = {}
    for key, value in pairs:
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text
    return event


class Gateway:
    """The route table of the template, bound to in-process handlers."""

    def __init__(self, template: Template):
        self.functions = template.functions()
        self.routes = template.routes()
        self.handlers = {fid: load_handler(fn) for fid, fn in self.functions.items()}
        # A Lambda instance handles one event at a time, and handlers keep per-request state in
        # module globals (the resolver's current event and context): one lock per function.
        self.locks = {fid: threading.Lock() for fid in self.functions}

    def match(self, method: str, path: str) -> Route | None:
        """The route for ``method path``, if the template declares one."""
        return next((r for r in self.routes if r.method == method and r.pattern.match(path)), None)

    def invoke(self, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(function_name=route.function, aws_request_id=event["requestContext"]["requestId"])
        with self.locks[route.function]:
            return self.handlers[route.function](event, context)


def content_length(values: list[str]) -> int | None:
    """The body length the request declares (0 without the header); None unless it is one decimal number."""
    if not values:
        return 0
    if len(set(values)) > 1 or not re.fullmatch(r"[0-9]{1,19}", values[0].strip()):
        return None
    return int(values[0])


def _gateway_error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}, "request_id": None}).encode()


def _handler(gateway: Gateway, *, tcp: bool = True) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "puraify-local"
        # Headers and body go out in two sends; with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = tcp  # TCP_NODELAY does not exist on a Unix domain socket

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def _respond(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = content_length(self.headers.get_all("Content-Length") or [])
            if length is None:
                # Unread, the body would be taken for the next request: answer and close.
                self.close_connection = True
                self._respond(
                    400,
                    {"Content-Type": "application/json"},
                    _gateway_error("invalid_content_length", "Content-Length must be one non-negative decimal number"),
                )
                return
            if length > MAX_BODY:
                self.close_connection = True
                self._respond(
                    413,
                    {"Content-Type": "application/json"},
                    _gateway_error("payload_too_large", "request body exceeds 10 MiB"),
                )
                return
            body = self.rfile.read(length) if length else b""
            route = gateway.match(self.command, url.path)
            if route is None:
                # API Gateway answers unmatched routes itself, before any function runs.
                self._respond(404, {"Content-Type": "application/json"}, _gateway_error("route_not_found", "Not Found"))
                return
            event = http_event(self.command, url.path, url.query, dict(self.headers.items()), body, route)
            try:
                result = gateway.invoke(route, event)
            except Exception:  # noqa: BLE001 - a crashed function is API Gateway's 500
                self._respond(
                    500,
                    {"Content-Type": "application/json"},
                    _gateway_error("internal_error", "Internal Server Error"),
                )
                return
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            headers = dict(result.get("headers") or {})
            headers.setdefault("Content-Type", "application/json")
            headers["apigw-requestid"] = event["requestContext"]["requestId"]
            self._respond(int(result.get("statusCode", 200)), headers, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # API Gateway answers a method no route declares (TRACE, QUERY...) with 404, never 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def address_string(self) -> str:
            return self.client_address[0] if tcp and self.client_address else "unix"

    return Handler


def make_server(gateway: Gateway, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), _handler(gateway))
    server.daemon_threads = True
    return server


class ThreadingUnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def make_unix_server(gateway: Gateway, path: str) -> ThreadingUnixHTTPServer:
    """The same gateway on a Unix domain socket at ``path`` (mode 0600: only this user connects)."""
    socket_file = Path(path)
    if socket_file.is_socket():
        socket_file.unlink()  # left by a run that did not stop cleanly
    previous = os.umask(0o177)
    try:
        return ThreadingUnixHTTPServer(path, _handler(gateway, tcp=False))
    finally:
        os.umask(previous)


def serve_in_background(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="puraify-gateway", daemon=True)
    thread.start()
    return thread
