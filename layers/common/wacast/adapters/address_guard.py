"""The address guard of webhooks (server-side request forgery): which URLs may be endpoints, and which
checked address a request goes to.

- Only `https` URLs (the local stack may allow `http`, by setting), no credentials in the URL.
- The host is resolved and every address it resolves to must be global: no private, loopback, link-local
  (cloud metadata), multicast, reserved or carrier-grade NAT address (the local stack may allow loopback,
  by setting, for its tests).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from wacast.domain.errors import ValidationFailed

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class AddressGuard:
    """Decides whether a URL may be called, and which checked address to call it at."""

    def __init__(self, *, allow_http: bool = False, allow_loopback: bool = False, resolver: Resolver | None = None):
        self.allow_http = allow_http
        self.allow_loopback = allow_loopback
        self.resolver = resolver or system_resolver

    def check(self, url: str) -> None:
        """Raises ValidationFailed(field="url") when the URL may not be an endpoint."""
        self.resolve(url)

    def resolve(self, url: str) -> tuple[str, str]:
        """(the host, a checked address of it). Raises ValidationFailed(field="url")."""
        parts = urlsplit(url)
        allowed = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in allowed:
            raise ValidationFailed(f"the URL must use {' or '.join(allowed)}", field="url")
        if parts.username or parts.password:
            raise ValidationFailed("the URL may not hold credentials", field="url")
        host = parts.hostname
        if not host:
            raise ValidationFailed("the URL has no host", field="url")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValidationFailed("the URL's port is not valid", field="url") from exc
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)]
            except (OSError, UnicodeError, ValueError) as exc:
                raise ValidationFailed("the URL's host does not resolve", field="url") from exc
        if not addresses:
            raise ValidationFailed("the URL's host does not resolve", field="url")
        for address in addresses:
            if not self.allowed(address):
                raise ValidationFailed("the URL's host is a private, loopback or link-local address", field="url")
        return host, str(addresses[0])

    def allowed(self, address: IpAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback:
            return self.allow_loopback
        return address.is_global and not address.is_multicast
