"""The one Alembic tree upgrades an empty database on both engines, downgrades cleanly, and
leaves exactly the schema the code declares."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.migrate import downgrade, include_name, upgrade
from server.db.models import metadata
from tests.support import databases


async def _fresh_url(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/fresh.db", None
    if not await databases.postgres_available():
        import pytest
        if databases.POSTGRES_REQUIRED:
            pytest.fail("PostgreSQL is required but not reachable")
        pytest.skip("PostgreSQL is not reachable")
    import uuid
    import asyncpg
    name = f"goalpost_mig_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(databases._plain(databases.ADMIN_URL))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = databases.with_database(databases.ADMIN_URL, name)
    return url, url


async def _tables_and_diff(url):
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: {t for t in inspect(c).get_table_names()
                                                 if include_name(t, "table", {})})
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_name": include_name}), metadata))
    await engine.dispose()
    return tables, diff


async def test_upgrade_from_empty_downgrade_and_again(backend, tmp_path):
    url, to_drop = await _fresh_url(backend, tmp_path)
    try:
        await asyncio.to_thread(upgrade, url)
        tables, diff = await _tables_and_diff(url)
        assert set(metadata.tables) <= tables
        assert diff == [], f"models and migrations differ: {diff}"
        await asyncio.to_thread(downgrade, url, "base")
        tables, _ = await _tables_and_diff(url)
        assert tables <= {"alembic_version"}
        await asyncio.to_thread(upgrade, url)
        tables, _ = await _tables_and_diff(url)
        assert set(metadata.tables) <= tables
    finally:
        if to_drop:
            await databases.drop_postgres_database(to_drop)
