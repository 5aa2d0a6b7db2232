"""Outbound notification HTTP, behind the address guard (no SSRF from a deployed stack).

A deployed stack (``AllowPrivateWebhooks=false``, the default) sends only to ``https`` URLs whose
host resolves to public addresses: never loopback, private, link-local (169.254.169.254, the
instance metadata service), shared, multicast or reserved ones. The check runs when a route is
saved (a 422) and again when each notification is sent, and the request then goes to the address
that was checked (the name is kept for TLS and the ``Host`` header), so a DNS answer that changes
between the check and the connection cannot point it elsewhere. Redirects are never followed.

The local runner and the tests allow ``http`` and loopback (``AllowPrivateWebhooks=true``), so a
receiver on 127.0.0.1 can get notifications.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from puraify.monitoring.ports import ChannelError

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class AddressGuard:
    """Decides whether a notification URL may be called, and which address to call."""

    def __init__(self, allow_private: bool, resolver: Resolver = resolve):
        self.allow_private = allow_private
        self.resolver = resolver

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be called (None when it may): for the 422 of a saved route."""
        try:
            self.address(url)
        except ChannelError as error:
            return str(error)
        return None

    def address(self, url: str) -> str | None:
        """The checked address to connect to (None: connect as the URL says); ChannelError if refused."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as error:
            raise ChannelError("not a URL") from error
        if parts.scheme not in ("https", "http") or not host:
            raise ChannelError("only http(s) URLs with a host")
        if self.allow_private:
            return None
        if parts.scheme != "https":
            raise ChannelError("only https URLs are allowed on this stack")
        try:
            addresses = self.resolver(host, port or 443)
        except (OSError, UnicodeError) as error:
            raise ChannelError(f"{host} does not resolve") from error
        if not addresses:
            raise ChannelError(f"{host} does not resolve")
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise ChannelError(
                f"{host} resolves to a loopback, private, link-local or reserved address ({refused[0]}): not allowed"
            )
        return addresses[0]


class HttpSender:
    """POSTs notifications through the address guard; implements the ``Sender`` port."""

    def __init__(self, guard: AddressGuard, timeout: float):
        self.guard = guard
        self.timeout = timeout
        self._client: httpx.Client | None = None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        address = self.guard.address(url)
        target, extensions = url, dict[str, Any]()
        sent_headers = {"content-type": "application/json", "user-agent": "puraify-notifications/1", **headers}
        if address is not None:
            target, extensions = _pinned(url, address)
            parts = urlsplit(url)
            sent_headers["host"] = parts.netloc.rsplit("@", 1)[-1]
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        try:
            reply = self._client.post(target, content=body, headers=sent_headers, extensions=extensions)
        except httpx.HTTPError as error:
            raise ChannelError(f"{type(error).__name__}") from error
        return reply.status_code


def _pinned(url: str, address: str) -> tuple[str, dict[str, Any]]:
    """``url`` with its host replaced by ``address``; TLS still verifies the certificate for the name."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), extensions
