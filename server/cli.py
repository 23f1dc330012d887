"""`goalpost serve | migrate | create-site | create-key`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys

from server.settings import Settings


def _migrate(settings: Settings) -> None:
    from server.db.migrate import upgrade

    upgrade(settings.database_url)


async def _with_db(settings: Settings, work):
    from server.db.engine import create_database

    db = create_database(settings.database_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


def cmd_migrate(args, settings: Settings) -> int:
    _migrate(settings)
    print("database is at the latest schema")
    return 0


def create_serving_app():
    """The app each `goalpost serve` worker runs: create_app, with the garbage collector tuned
    once the lifespan has made the long-lived objects."""
    from server.app import create_app

    app = create_app()
    start = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with start(app) as state:
            # Long-lived objects made at start-up leave the collector's view, and young-generation
            # collections run less often: measured on bench/ingest, they cost a tenth of the time.
            # Process-wide, so only here: a process that makes many apps (the tests) is left alone.
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)
            yield state

    app.router.lifespan_context = lifespan
    return app


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from server.auth.keys import ensure_admin_token

    _migrate(settings)
    if settings.admin_token is None:
        token = asyncio.run(_with_db(settings, ensure_admin_token))
        if token:
            print(f"Goalpost admin token (shown once, keep it): {token}", flush=True)
    uvicorn.run(
        "server.cli:create_serving_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level=args.log_level,
        access_log=False,
    )
    return 0


def cmd_create_site(args, settings: Settings) -> int:
    from server.errors import ApiError
    from server.sites import service

    _migrate(settings)
    try:
        site = asyncio.run(_with_db(settings, lambda db: service.create(
            db, domain=args.domain, name=args.name, timezone=args.timezone)))
    except ApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    print(f"{site.id}\t{site.domain}")
    return 0


def cmd_create_key(args, settings: Settings) -> int:
    from server.auth.keys import create_api_key
    from server.errors import ApiError
    from server.sites import service

    async def work(db):
        site = await service.get_by_domain(db, domain=service.normalize_domain(args.domain))
        if site is None:
            raise SystemExit(f"error: no site {args.domain!r}")
        return await create_api_key(db, site_id=site.id, label=args.label)

    try:
        _key, secret = asyncio.run(_with_db(settings, work))
    except ApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    print(secret)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="goalpost", description="Goals and conversions analytics")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="proxies whose X-Forwarded-For is trusted for the client address")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=cmd_serve)

    migrate = sub.add_parser("migrate", help="alembic upgrade head")
    migrate.set_defaults(run=cmd_migrate)

    site = sub.add_parser("create-site", help="register a site by its domain")
    site.add_argument("domain")
    site.add_argument("--name")
    site.add_argument("--timezone", default="UTC")
    site.set_defaults(run=cmd_create_site)

    key = sub.add_parser("create-key", help="create an API key for a site; prints the secret once")
    key.add_argument("domain")
    key.add_argument("--label")
    key.set_defaults(run=cmd_create_key)

    args = parser.parse_args(argv)
    return args.run(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
