"""`goalpost serve | migrate | maintain | create-site | create-key | update-referrers`."""

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


def create_serving_app(settings: Settings | None = None):
    """The app each `goalpost serve` worker runs (settings from the environment; a benchmark
    passes its own): create_app, with the garbage collector tuned once the lifespan has made
    the long-lived objects."""
    from server.app import create_app

    app = create_app(settings)
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
    import os

    import uvicorn

    from server.auth.keys import ensure_admin_token

    if args.forwarded_allow_ips is not None:
        # each worker builds its app from the environment (server.app:create_app)
        os.environ["GOALPOST_FORWARDED_ALLOW_IPS"] = args.forwarded_allow_ips
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
        proxy_headers=False,  # the app reads X-Forwarded-For itself, from trusted proxies only
        log_level=args.log_level,
        access_log=False,
    )
    return 0


def cmd_maintain(args, settings: Settings) -> int:
    from server.lifecycle.maintenance import Maintenance

    _migrate(settings)
    report = asyncio.run(_with_db(settings, lambda db: Maintenance(
        db, retention_days=settings.retention_days,
        rollup_retention_days=settings.rollup_retention_days).run()))
    print(f"partitions created: {', '.join(report.partitions_created) or 'none'}")
    print(f"partitions dropped: {', '.join(report.pruned.partitions_dropped) or 'none'}")
    print(f"visitor-sketch parts merged: {report.sketch_parts_merged}")
    print(f"dimension rollups: {report.dimensions.hours_built} hours built, "
          f"{report.dimensions.days_compacted} days and {report.dimensions.weeks_compacted} "
          f"weeks merged")
    for table, n in sorted(report.pruned.rows.items()):
        print(f"{table}: {n} rows deleted")
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
        site = await service.get_by_domain(db, domain=service.canonical_domain(args.domain))
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


def cmd_update_referrers(args, settings: Settings) -> int:
    """Replace the referrer database (server/ingest/data/referers.json) with Snowplow's latest,
    or with a file or URL in its JSON or YAML format. Running servers read it at their next
    start."""
    import urllib.request
    from pathlib import Path

    from server.ingest.attribution import REFERERS_FILE, write_referers

    source = args.source
    try:
        if "://" in source:
            with urllib.request.urlopen(source, timeout=60) as answer:  # noqa: S310 - by design
                text = answer.read().decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
        count = write_referers(text, Path(args.output) if args.output else REFERERS_FILE)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{count} referrers from {source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="goalpost", description="Goals and conversions analytics")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--forwarded-allow-ips", default=None,
                       help="comma-separated proxy addresses or networks ('*': any) whose "
                            "X-Forwarded-For gives the client address (default: none; "
                            "also GOALPOST_FORWARDED_ALLOW_IPS)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=cmd_serve)

    migrate = sub.add_parser("migrate", help="alembic upgrade head")
    migrate.set_defaults(run=cmd_migrate)

    maintain = sub.add_parser(
        "maintain", help="create events partitions ahead and apply retention (servers also do "
                         "this at start and daily)")
    maintain.set_defaults(run=cmd_maintain)

    site = sub.add_parser("create-site", help="register a site by its domain")
    site.add_argument("domain")
    site.add_argument("--name")
    site.add_argument("--timezone", default="UTC")
    site.set_defaults(run=cmd_create_site)

    key = sub.add_parser("create-key", help="create an API key for a site; prints the secret once")
    key.add_argument("domain")
    key.add_argument("--label")
    key.set_defaults(run=cmd_create_key)

    from server.ingest.attribution import SNOWPLOW_LATEST

    referrers = sub.add_parser("update-referrers",
                               help="refresh the referrer database from Snowplow's referer-parser")
    referrers.add_argument("source", nargs="?", default=SNOWPLOW_LATEST,
                           help="a URL or file in Snowplow's JSON or YAML format "
                                "(default: Snowplow's latest)")
    referrers.add_argument("--output", help="where to write it (default: the installed copy)")
    referrers.set_defaults(run=cmd_update_referrers)

    args = parser.parse_args(argv)
    return args.run(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
