"""Fixtures shared by every test that touches storage: each such test runs on SQLite and on
PostgreSQL (the `backend` parameter), through the real ASGI app with its lifespan."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings
from server.sites import service as sites
from tests.support import databases

ADMIN_TOKEN = "test-admin-token"
BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory) -> str:
    return await databases.create_sqlite_database(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
async def postgres_url():
    if not await databases.postgres_available():
        if databases.POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL is required (GOALPOST_TEST_POSTGRES) but "
                        f"{databases.ADMIN_URL} is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    url = await databases.create_postgres_database()
    yield url
    await databases.drop_postgres_database(url)


@pytest.fixture(scope="session")
def database_url(backend, request) -> str:
    """The migrated database of this backend, made once per run."""
    return request.getfixturevalue(f"{backend}_url")


def make_settings(database_url: str, **overrides) -> Settings:
    # sketch parts merged when a test says so (rollups.merge_sketch_parts), never under it
    values = dict(database_url=database_url, admin_token=ADMIN_TOKEN, rate_limit=0.0,
                  rate_burst=0.0, sketch_merge_seconds=0.0,
                  dimension_build_seconds=0.0)
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_app(settings: Settings, client_ip: str = "192.0.2.99"):
    """Another app on the same database (as another process would be), with a client."""
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application, client=(client_ip, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://gp.test",
                                     headers={"user-agent": BROWSER_UA}) as c:
            yield application, c


@pytest.fixture(scope="session")
async def app(database_url):
    application = create_app(make_settings(database_url))
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture(scope="session")
def db(app):
    return app.state.db


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://goalpost.test",
                                 headers={"user-agent": BROWSER_UA}) as c:
        yield c


@pytest.fixture
async def site(db):
    """A fresh site per test: tests never see each other's data."""
    return await sites.create(db, domain=f"t{uuid.uuid4().hex[:16]}.example")
