"""The Starlette application: routes, and a lifespan that owns the engines and the writer."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.middleware import Middleware
from starlette.routing import Route

from server.auth.keys import AdminTokens
from server.dashboard import Dashboard
from server.db.engine import create_database
from server.ingest.batch_store import create_batch_store
from server.ingest.goal_cache import GoalCache
from server.ingest.http import EventIngress
from server.ingest.pipeline import Context, SiteLookup
from server.ingest.ratelimit import RateLimiter
from server.ingest.visitors import SaltStore
from server.ingest.writer import Writer
from server.settings import Settings

log = logging.getLogger("goalpost")
STATIC = Path(__file__).parent / "static"


class Tracker:
    """The built tracker, read once, with an ETag from its content."""

    def __init__(self, path: Path):
        self.body = path.read_bytes() if path.exists() else b""
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'


async def tracker_endpoint(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    headers = {
        "etag": tracker.etag,
        # revalidated daily; ?v=<version> URLs may be cached for a year
        "cache-control": "public, max-age=31536000, immutable" if request.query_params.get("v")
        else "public, max-age=86400, must-revalidate",
        "access-control-allow-origin": "*",
        "cross-origin-resource-policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == tracker.etag:
        return Response(status_code=304, headers=headers)
    return Response(tracker.body, media_type="application/javascript; charset=utf-8",
                    headers=headers)


async def health_endpoint(request: Request) -> Response:
    try:
        async with request.app.state.db.read.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"ok": False, "database": "unavailable"}, status_code=503)
    return JSONResponse({"ok": True})


def _configure_logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    _configure_logging()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        db = create_database(settings.database_url,
                             busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        goal_cache = GoalCache(db)
        # PostgreSQL: a second transaction fills while the first waits for its commit;
        # SQLite has one writer at a time anyway
        concurrency = 1 if db.is_sqlite else 2
        writer = Writer(create_batch_store(db, connections=concurrency), goal_cache,
                        session_timeout_us=settings.session_timeout_seconds * 10**6,
                        max_batch=settings.batch_max_size, retry_after=settings.retry_after_seconds,
                        concurrency=concurrency)
        await writer.start()
        app.state.db = db
        app.state.admin = AdminTokens(db, settings.admin_token)
        app.state.writer = writer
        app.state.ingest = Context(
            db=db, sites=SiteLookup(db), admin=app.state.admin, salts=SaltStore(db),
            goals=goal_cache, writer=writer,
            limiter=RateLimiter(settings.rate_limit, settings.rate_burst),
            max_props_bytes=settings.max_props_bytes,
        )
        try:
            yield
        finally:
            await writer.stop()
            await db.dispose()

    routes = [
        Route("/js/goalpost.js", tracker_endpoint, methods=["GET", "HEAD"]),
        Route("/health", health_endpoint, methods=["GET"]),
        *Dashboard(STATIC / "app").routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(EventIngress)])
    app.state.settings = settings
    app.state.tracker = Tracker(STATIC / "goalpost.js")
    _mount_graphql(app)
    return app


def _mount_graphql(app: Starlette) -> None:
    """GraphQL lives in server.schema; mounted here so the app has one list of routes."""
    from server.schema.asgi import mount

    mount(app)
