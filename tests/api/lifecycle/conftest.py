"""Lifecycle tests delete data across sites (retention) or need their own database: each gets a
fresh migrated database of its backend, and an app on it."""

from __future__ import annotations


import pytest

from tests.api.graphql.conftest import admin, as_token, other_site, site_key  # noqa: F401
from tests.conftest import make_settings, running_app
from tests.support import databases


@pytest.fixture
async def fresh_url(backend, tmp_path):
    if backend == "sqlite":
        yield await databases.create_sqlite_database(tmp_path)
        return
    if not await databases.postgres_available():
        if databases.POSTGRES_REQUIRED:
            pytest.fail("PostgreSQL is required but not reachable")
        pytest.skip("PostgreSQL is not reachable")
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


@pytest.fixture
async def fresh_app(fresh_url):
    async with running_app(make_settings(fresh_url)) as (application, client):
        yield application, client
