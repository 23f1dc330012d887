"""`goalpost serve` tunes the garbage collector once its app has started; an app's own lifespan
leaves the process's collector alone (a process may make many apps, as the tests do)."""

from __future__ import annotations

import gc

from asgi_lifespan import LifespanManager

from server.app import create_app
from server.cli import create_serving_app
from tests.conftest import make_settings


async def test_an_app_lifespan_leaves_the_collector_alone(database_url):
    before = gc.get_threshold(), gc.get_freeze_count()
    application = create_app(make_settings(database_url))
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        assert (gc.get_threshold(), gc.get_freeze_count()) == before


async def test_the_serving_app_tunes_the_collector_after_start_up(database_url, monkeypatch):
    monkeypatch.setenv("GOALPOST_DATABASE_URL", database_url)
    monkeypatch.setenv("GOALPOST_ADMIN_TOKEN", "gc-admin")
    threshold = gc.get_threshold()
    application = create_serving_app()
    try:
        async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
            assert gc.get_threshold() == (50_000, 20, 100)
            # what start-up made, the writer among it, is out of the collector's view
            assert gc.get_freeze_count() > 0
            writer = application.state.writer
            assert not any(o is writer for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
