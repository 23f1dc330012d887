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
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server.auth.keys import AdminTokens
from server.dashboard import Dashboard
from server.clock import US
from server.db.engine import create_database
from server.ingest import attribution
from server.ingest.storage import create_batch_store
from server.ingest.goal_cache import GoalCache
from server.ingest.http import PATH as EVENT_PATH
from server.ingest.http import EventIngress
from server.ingest.pipeline import Context, SiteLookup
from server.ingest.ratelimit import RateLimiter
from server.ingest.visitors import SaltStore
from server.ingest.writer import Writer
from server.lifecycle.maintenance import Maintenance
from server.live.feed import create_feed
from server.live.hub import LiveHub
from server.settings import Settings
from server.wordpress import PluginZip, plugin_zip_endpoint

log = logging.getLogger("goalpost")
STATIC = Path(__file__).parent / "static"


class Tracker:
    """The built tracker, read once, with an ETag from its content."""

    def __init__(self, path: Path):
        self.body = path.read_bytes() if path.exists() else b""
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'


TRACKERS = ("goalpost.js", "goalpost.plus.js")  # §5, and §5 plus the automatic events of §8


async def tracker_endpoint(request: Request) -> Response:
    tracker: Tracker | None = request.app.state.trackers.get(request.path_params["name"])
    if tracker is None:
        return Response("Not Found", status_code=404)
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


class GoalpostApp(Starlette):
    """Starlette, with POST /api/event taken before its middleware stack: that route answers
    every error itself (server/ingest/http.py), and the stack's per-request wrappers cost a
    tenth of the route's CPU (measured with bench/ingest.py)."""

    _ingress = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == EVENT_PATH:
            scope["app"] = self
            if self._ingress is None:
                ingress = EventIngress(super().__call__)
                for layer in reversed(self.user_middleware):  # the trusted proxies' client address
                    ingress = layer.cls(ingress, *layer.args, **layer.kwargs)
                self._ingress = ingress
            return await self._ingress(scope, receive, send)
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    _configure_logging()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        db = create_database(settings.database_url, replica_url=settings.read_database_url,
                             busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        maintenance = Maintenance(db, retention_days=settings.retention_days,
                                  rollup_retention_days=settings.rollup_retention_days,
                                  dimensions=settings.dimension_build_seconds > 0)
        maintenance.run_in_background()
        maintenance.merge_sketch_parts_every(settings.sketch_merge_seconds)
        maintenance.build_dimensions_every(settings.dimension_build_seconds)
        goal_cache = GoalCache(db)
        # SQLite has one writer at a time anyway
        connections = 1 if db.is_sqlite else settings.writer_connections
        live = LiveHub(queue_size=settings.live_queue_size)
        feed = create_feed(db, live)
        await feed.start()
        writer = Writer(create_batch_store(db, connections=connections), goal_cache,
                        session_timeout_us=settings.session_timeout_seconds * US,
                        max_batch=settings.batch_max_size, retry_after=settings.retry_after_seconds,
                        connections=connections, on_stored=feed.publish)
        await writer.start()
        attribution.warm_up()
        app.state.db = db
        app.state.admin = AdminTokens(db, settings.admin_token)
        app.state.writer = writer
        app.state.maintenance = maintenance
        app.state.live = live
        app.state.ingest = Context(
            db=db, sites=SiteLookup(db), admin=app.state.admin,
            salts=SaltStore(db, on_new_day=maintenance.run_in_background),
            goals=goal_cache, writer=writer,
            limiter=RateLimiter(settings.rate_limit, settings.rate_burst),
            max_props_bytes=settings.max_props_bytes,
        )
        try:
            yield
        finally:
            await maintenance.stop()
            await writer.stop()
            await feed.stop()
            await db.dispose()

    routes = [
        Route("/js/{name}", tracker_endpoint, methods=["GET", "HEAD"]),
        Route("/health", health_endpoint, methods=["GET"]),
        *Dashboard(STATIC / "app").routes(),
        Route("/wordpress/goalpost.zip", plugin_zip_endpoint, methods=["GET", "HEAD"]),
    ]
    middleware = []
    if settings.forwarded_allow_ips:
        # here rather than in uvicorn, so the app trusts the same proxies whatever serves it
        middleware.append(Middleware(ProxyHeadersMiddleware,
                                     trusted_hosts=settings.forwarded_allow_ips))
    app = GoalpostApp(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    app.state.trackers = {name: Tracker(STATIC / name) for name in TRACKERS}
    app.state.wordpress_plugin = PluginZip()
    _mount_graphql(app)
    return app


def _mount_graphql(app: Starlette) -> None:
    """GraphQL lives in server.schema; mounted here so the app has one list of routes."""
    from server.schema.asgi import mount

    mount(app)
