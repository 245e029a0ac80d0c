"""Webhook requests with httpx, safe against server-side request forgery.

- The URL is checked by the address guard (adapters/address_guard.py) at each request, and the request
  goes to the address that was checked (the Host header and TLS server name stay the URL's), so a DNS
  answer that changes between the check and the connection (DNS rebinding) cannot send it elsewhere.
- No redirect is followed; connect, read and whole-request times are bounded, and at most
  `max_response_bytes` of the answer is read.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from wacast.adapters.address_guard import AddressGuard
from wacast.domain.errors import ValidationFailed
from wacast.ports import HttpResult


class HttpxWebhookTransport:
    """Posts a webhook through an httpx client, at the address the guard checked."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        timeout_seconds: float = 10.0,
        connect_timeout_seconds: float = 3.0,
        max_response_bytes: int = 64 * 1024,
        client: httpx.Client | None = None,
    ) -> None:
        self.guard = guard
        self.deadline_seconds = timeout_seconds
        self.max_response_bytes = max_response_bytes
        timeout = httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds)
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        started = time.monotonic()

        def took() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            host, address = self.guard.resolve(url)
        except ValidationFailed as exc:
            return HttpResult(None, took(), f"refused: {exc}")
        parts = urlsplit(url)
        netloc = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc += f":{parts.port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        request_headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1], "Content-Type": "application/json"}
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            with self.client.stream(
                "POST", pinned, content=body, headers=request_headers, extensions=extensions
            ) as response:
                read = 0
                for chunk in response.iter_bytes():
                    read += len(chunk)
                    if read >= self.max_response_bytes or time.monotonic() - started > self.deadline_seconds:
                        break  # the status is what counts: the rest of the answer is not read
                return HttpResult(response.status_code, took())
        except httpx.TimeoutException:
            return HttpResult(None, took(), "timeout")
        except httpx.HTTPError as exc:
            return HttpResult(None, took(), f"network error: {type(exc).__name__}")
