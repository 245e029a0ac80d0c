"""The web console on the local stack, served as CloudFront serves it on AWS (docs/console.md).

One origin for the browser, so no CORS: a small proxy on the public port (3000) forwards the API's paths
(`/api/*`, and `/docs`, `/openapi.json`, `/health`) to the API process, which stays exactly the FastAPI app
AWS runs, on an internal port; every other path is a file of the console's build (`web/dist`), and a path
that names no file and has no extension is the single-page app's `index.html` (its router takes it from
there). CloudFront does the same with an `/api/*` cache behaviour to the HTTP API and a CloudFront
Function on the default behaviour; a path with an extension that is not in the build is a 404 on both.

`python -m local.web --port 3000 --upstream http://127.0.0.1:PORT [--dist web/dist]` runs it on its own;
the local stack starts it as a process of its own (`StackConfig.console`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response, StreamingResponse

from local.template import ROOT

#: The console's build (`make web-build`).
DIST = ROOT / "web" / "dist"
#: The paths that go to the API, as CloudFront's cache behaviours route them (template.yaml).
API_PREFIXES = ("/api/", "/docs/")
API_PATHS = ("/api", "/docs", "/openapi.json", "/health")
#: Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own, never forwarded; Host names the API's origin
#: (CloudFront's AllViewerExceptHostHeader policy forwards every other viewer header).
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
}
#: Vite names the files under assets/ by their content: they never change. Everything else is revalidated
#: (deploy/deploy.sh uploads with the same Cache-Control).
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: The API may take a while (a direct send waits up to ~10 s for its outcome); CloudFront's default origin
#: read timeout is 30 s.
UPSTREAM_TIMEOUT = httpx.Timeout(60.0, connect=5.0)

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wacast console</title></head>
<body><main><h1>The console is not built</h1><p>Run <code>make web-build</code> (or <code>make run</code>, which
builds it when needed), then reload. The API is here all the same: <a href="/docs">/docs</a>.</p></main></body></html>
"""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def is_api_path(path: str) -> bool:
    """Whether CloudFront (and so this proxy) sends `path` to the API rather than to the console's bucket."""
    return path in API_PATHS or path.startswith(API_PREFIXES)


def static_target(dist: Path, path: str) -> tuple[Path | None, str]:
    """The file of the build that answers `path`, and its Cache-Control; (None, "") for a 404.

    A file that exists is served as it is; a path whose last segment has no extension is a route of the
    single-page app, so `index.html`; anything else is not found (a missing script must not turn into HTML).
    """
    root = dist.resolve()
    relative = path.lstrip("/")
    if relative:
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate, IMMUTABLE if relative.startswith("assets/") else REVALIDATE
        if "." in relative.rsplit("/", 1)[-1]:
            return None, ""
    return root / "index.html", REVALIDATE


class ConsoleProxy:
    """An ASGI app: the API's paths forwarded to `upstream`, the rest from `dist` with the SPA fallback."""

    def __init__(self, dist: Path, upstream: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.dist = dist
        self.upstream = upstream.rstrip("/")
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.upstream, timeout=UPSTREAM_TIMEOUT, transport=self._transport, follow_redirects=False
            )
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if is_api_path(request.url.path):
            response = await self.forward(request)
        else:
            response = self.static(request)
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def forward(self, request: Request) -> Response:
        """The request as the viewer sent it, minus Host and hop-by-hop headers; the answer streamed back."""
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in HOP_BY_HOP and k.lower() != b"host"]
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body()  # bounded by the API's own limit (16 MiB); CloudFront buffers it too
        outgoing = self.client.build_request(request.method, target, headers=headers, content=body or None)
        try:
            answer = await self.client.send(outgoing, stream=True)
        except httpx.TransportError as exc:
            return bad_gateway(f"the API at {self.upstream} did not answer: {type(exc).__name__}")
        response = StreamingResponse(
            answer.aiter_raw(), status_code=answer.status_code, background=BackgroundTask(answer.aclose)
        )
        response.raw_headers = [
            (k, self._relative(v) if k.lower() == b"location" else v)
            for k, v in answer.headers.raw
            if k.lower() not in HOP_BY_HOP
        ]
        return response

    def _relative(self, location: bytes) -> bytes:
        """A redirect to the API's internal address, made relative: the browser knows only this origin."""
        origin = self.upstream.encode()
        return location[len(origin) :] or b"/" if location.startswith(origin) else location

    def static(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("method not allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        if not (self.dist / "index.html").is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        target, cache = static_target(self.dist, request.url.path)
        if target is None:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(target, headers={"Cache-Control": cache})


def bad_gateway(message: str) -> Response:
    """What the browser gets when the API process is down: the API's own error shape, as a 502."""
    body = {"error": {"code": "bad_gateway", "message": message, "details": [{"field": None, "message": message}]}}
    return Response(json.dumps(body), status_code=502, media_type="application/json")


def command(port: int, upstream: str, dist: Path) -> list[str]:
    """The arguments after `python` that run the proxy (the local stack starts it this way)."""
    return ["-m", "local.web", "--port", str(port), "--upstream", upstream, "--dist", str(dist)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.web", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=3000, help="where the console listens on 127.0.0.1")
    parser.add_argument("--upstream", required=True, help="the API's base URL, e.g. http://127.0.0.1:3001")
    parser.add_argument("--dist", type=Path, default=DIST, help=f"the console's build (default {DIST})")
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(ConsoleProxy(args.dist, args.upstream), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
