"""The dashboard (contract §7): the single-page app built from dashboard/ into static/app/.

index.html answers `/` and the app's client routes, never cached (it names the current assets)
and under a strict Content-Security-Policy; the hashed files under /app/assets/ are immutable.
Everything is read once at start-up, gzipped once, and served from memory."""

from __future__ import annotations

import gzip
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

# No inline script or style element, no eval; the app talks to its own origin only (/graphql,
# over HTTP and WebSocket).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "cache-control": "no-cache",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
ASSET_HEADERS = {
    "cache-control": "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
}
COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".json")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type == "application/javascript":
        media_type += "; charset=utf-8"
    gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
    return Asset(body, gzipped, media_type)


class Dashboard:
    def __init__(self, root: Path):
        index = root / "index.html"
        self.index = _asset(index) if index.exists() else None
        assets = root / "assets"
        self.assets = {p.name: _asset(p) for p in assets.iterdir() if p.is_file()} \
            if assets.is_dir() else {}

    @staticmethod
    def _send(request: Request, asset: Asset, headers: dict[str, str]) -> Response:
        headers = {**headers, "vary": "accept-encoding"}
        if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            return Response(asset.gzipped, media_type=asset.media_type,
                            headers={**headers, "content-encoding": "gzip"})
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    async def page(self, request: Request) -> Response:
        if self.index is None:
            return PlainTextResponse("the dashboard is not built: npm run build in dashboard/",
                                     status_code=503)
        return self._send(request, self.index, PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["name"])
        if asset is None:
            return PlainTextResponse("not found", status_code=404,
                                     headers={"cache-control": "no-cache"})
        return self._send(request, asset, ASSET_HEADERS)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.page, methods=["GET", "HEAD"]),
            Route("/site/{rest:path}", self.page, methods=["GET", "HEAD"]),
            Route("/app/assets/{name}", self.asset, methods=["GET", "HEAD"]),
        ]
