"""Browser tests of the tracker (adapters/js) against the real server.

One Goalpost server (a `goalpost serve` subprocess on a temporary SQLite file), one page server
on another origin (http://localhost:<port>, registered as the site `localhost`) and one Chromium
are shared by the whole session; every test gets a fresh browser context. Assertions read what
the server stored, from the SQLite file opened read-only.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "adapters" / "js"
JQUERY = JS_DIR / "node_modules" / "jquery" / "dist" / "jquery.min.js"
SITE = "localhost"
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# hosts outbound links point to: answered by the browser context, never the network
EXTERNAL = ("https://www.amazon.de/**", "https://example.org/**", "https://docs.example.net/**")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the Goalpost server ----------------------------------------------------------------------

@dataclass
class Goalpost:
    origin: str
    db_path: Path

    @property
    def script_src(self) -> str:
        return f"{self.origin}/js/goalpost.js"

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql, params)]
        finally:
            con.close()

    def events(self, url_prefix: str) -> list[dict]:
        """The events stored for pages under url_prefix, oldest first."""
        return self.rows(
            "SELECT * FROM events WHERE url LIKE ? ORDER BY occurred_at, rowid",
            (url_prefix.replace("%", r"\%") + "%",),
        )

    def wait_events(self, url_prefix: str, predicate, timeout: float = 10.0,
                    what: str = "events") -> list[dict]:
        """Poll until predicate(events) is true; returns the events."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(url_prefix)
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what} under {url_prefix}; stored: "
                            + json.dumps([_brief(e) for e in found], indent=1))
            time.sleep(0.05)


def _brief(e: dict) -> dict:
    keys = ("type", "name", "url", "click_url", "click_text", "form_plugin", "form_id",
            "form_name", "props", "revenue_micros", "revenue_currency")
    return {k: e.get(k) for k in keys if e.get(k) is not None}


@pytest.fixture(scope="session")
def goalpost(tmp_path_factory) -> Goalpost:
    tmp = tmp_path_factory.mktemp("goalpost")
    db_path = tmp / "gp.db"
    env = {
        **os.environ,
        "GOALPOST_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "GOALPOST_RATE_LIMIT": "0",
        "GOALPOST_ADMIN_TOKEN": "x",
        "PYTHONUNBUFFERED": "1",
    }
    # the console script the package installed for this interpreter; else the same entry point
    exe = Path(sys.executable).parent / "goalpost"
    cli = [str(exe)] if exe.exists() else [
        sys.executable, "-c", "import sys; from server.cli import main; sys.exit(main())"]
    subprocess.run([*cli, "create-site", SITE], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=60)
    port = _free_port()
    log = open(tmp / "server.log", "w+b")
    proc = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail("goalpost serve exited:\n" + log.read().decode(errors="replace"))
            try:
                with urllib.request.urlopen(f"{origin}/js/goalpost.js", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("goalpost serve did not answer within 30 s")
            time.sleep(0.1)
        yield Goalpost(origin=origin, db_path=db_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- the site's pages, on another origin ---------------------------------------------------------

@dataclass
class Pages:
    origin: str
    routes: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    posts: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, path: str, html: str, headers: dict[str, str] | None = None) -> str:
        self.routes[path] = (html.encode(), {"content-type": "text/html; charset=utf-8",
                                             **(headers or {})})
        return self.origin + path


def _ensure_jquery() -> bytes:
    if not JQUERY.exists():  # a fresh clone: install the pinned devDependencies
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       capture_output=True, timeout=300)
    return JQUERY.read_bytes()


@pytest.fixture(scope="session")
def pages() -> Pages:
    port = _free_port()
    site = Pages(origin=f"http://{SITE}:{port}")
    site.routes["/jquery.min.js"] = (_ensure_jquery(),
                                     {"content-type": "application/javascript; charset=utf-8"})

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: bytes, headers: dict[str, str], status: int = 200):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.send_header("cache-control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            route = site.routes.get(self.path.split("?", 1)[0].split("#", 1)[0])
            if route is None:
                self._answer(b"not found", {"content-type": "text/plain"}, 404)
            else:
                self._answer(*route)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            site.posts.append((self.path, self.rfile.read(length)))
            self._answer(b"<!doctype html><title>Thanks</title><p>Thanks!</p>",
                         {"content-type": "text/html; charset=utf-8"})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


# --- the browser -------------------------------------------------------------------------------

# Per module, not per session: while the sync API runs, its event loop is the thread's running
# loop, and the async fixtures of the modules pytest runs after these (tests/wordpress) could not
# start theirs.
@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _external_page(route):
    route.fulfill(status=200, content_type="text/html", body="<!doctype html><p>elsewhere</p>")


@pytest.fixture
def context(browser):
    """A fresh browser profile with a desktop Chrome user agent; fails the test on any page error."""
    ctx = browser.new_context(user_agent=CHROME_UA)
    for pattern in EXTERNAL:
        ctx.route(pattern, _external_page)
    errors: list[str] = []
    ctx.on("page", lambda page: page.on("pageerror", lambda exc: errors.append(str(exc))))
    ctx.page_errors = errors
    try:
        yield ctx
    finally:
        ctx.close()
    assert errors == [], f"errors thrown in the page: {errors}"


@pytest.fixture
def page(context):
    return context.new_page()


# --- building test pages -----------------------------------------------------------------------

SNIPPET = ("<script>window.goalpost = window.goalpost || {track: function () "
           "{ (goalpost.q = goalpost.q || []).push(arguments) }}</script>")


@pytest.fixture
def make_page(goalpost: Goalpost, pages: Pages, request):
    """make_page(body, ...) -> URL of a new page under a path unique to the test."""
    prefix = "/" + request.node.name.replace("[", "_").replace("]", "").replace("/", "_") + "/"
    counter = iter(range(1000))

    def make(body: str = "", *, path: str | None = None, head: str = "", snippet: bool = True,
             tag_attrs: str = "data-allow-automation", tracker: bool = True,
             headers: dict[str, str] | None = None, script_name: str = "goalpost.js") -> str:
        path = prefix + (path if path is not None else f"p{next(counter)}/")
        src = f"{goalpost.origin}/js/{script_name}"
        script = (f'<script defer src="{src}" data-site="{SITE}" {tag_attrs}>'
                  "</script>") if tracker else ""
        html = ("<!doctype html><html><head><meta charset=utf-8><title>Test page</title>"
                f"{script}{SNIPPET if snippet else ''}{head}</head><body>{body}</body></html>")
        return pages.add(path, html, headers)

    make.prefix = pages.origin + prefix
    return make
