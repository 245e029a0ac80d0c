"""Media by URL: the host downloads it (bounded in time and size) before anything is sent, so a bad
URL is a definite "not sent" and never a half-sent message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol
from urllib.parse import urlparse

import httpx

MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's limit for images and videos


@dataclass(frozen=True)
class Media:
    data: bytes
    mimetype: str
    filename: str

    @property
    def is_image(self) -> bool:
        return self.mimetype in ("image/jpeg", "image/png", "image/webp")


class MediaUnavailable(Exception):
    """The media could not be fetched. `permanent`: fetching again will not help (404, too big...)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class MediaFetcher(Protocol):
    def fetch(self, url: str) -> Media: ...


class HttpMediaFetcher:
    """Downloads http(s) media with a timeout and a size cap."""

    def __init__(
        self, client: httpx.Client | None = None, max_bytes: int = MAX_MEDIA_BYTES, timeout: float = 20.0
    ) -> None:
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=True)
        self.max_bytes = max_bytes

    def fetch(self, url: str) -> Media:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise MediaUnavailable(f"not an http(s) URL: {url[:200]}", permanent=True)
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code >= 400:
                    permanent = response.status_code < 500 and response.status_code != 429
                    raise MediaUnavailable(f"HTTP {response.status_code} for {url[:200]}", permanent=permanent)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > self.max_bytes:
                        raise MediaUnavailable(f"larger than {self.max_bytes} bytes", permanent=True)
                mimetype = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        except httpx.HTTPError as exc:
            raise MediaUnavailable(f"could not download {url[:200]}: {type(exc).__name__}", permanent=False) from exc
        filename = PurePosixPath(parsed.path).name or "file"
        return Media(data=bytes(data), mimetype=mimetype or "application/octet-stream", filename=filename)
