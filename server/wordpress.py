"""`GET /wordpress/goalpost.zip`: the WordPress plugin, zipped from its folder when first asked.

The folder is `adapters/wordpress/goalpost/` in a checkout or editable install, and
`server/wordpress_plugin/` in an installed wheel (setup.py puts it there).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

_SERVER = Path(__file__).resolve().parent


def plugin_dir() -> Path:
    packaged = _SERVER / "wordpress_plugin"
    return packaged if packaged.is_dir() else _SERVER.parent / "adapters" / "wordpress" / "goalpost"


# WordPress installs an uploaded zip into wp-content/plugins/<its top folder>/
TOP_FOLDER = "goalpost"


def build_zip(folder: Path | None = None) -> bytes:
    """The plugin's files under goalpost/, in a stable order with a fixed date: the same
    folder always gives the same bytes (and ETag)."""
    folder = folder or plugin_dir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = f"{TOP_FOLDER}/{path.relative_to(folder).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


class PluginZip:
    """Built once per process, on the first request."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._body: bytes | None = None
        self.etag = ""

    def body(self) -> bytes:
        if self._body is None:
            self._body = build_zip(self.folder)
            self.etag = '"' + hashlib.sha256(self._body).hexdigest()[:20] + '"'
        return self._body


async def plugin_zip_endpoint(request: Request) -> Response:
    plugin: PluginZip = request.app.state.wordpress_plugin
    body = plugin.body()
    headers = {"etag": plugin.etag, "cache-control": "public, max-age=3600",
               "content-disposition": 'attachment; filename="goalpost.zip"'}
    if request.headers.get("if-none-match") == plugin.etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/zip", headers=headers)
