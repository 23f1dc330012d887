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


async def test_0006_keeps_existing_events_and_counts_their_sessions(backend, tmp_path):
    """Events stored before 0006 survive it (on PostgreSQL moved into monthly partitions, or
    the default partition when older than the months made), and rollup_hourly.sessions is
    filled from the sessions already stored."""
    import uuid

    from sqlalchemy import func, select, text

    from server.clock import now_us
    from server.db import partitions
    from server.db.models import events, rollup_hourly, sessions, sites

    url, to_drop = await _fresh_url(backend, tmp_path)
    try:
        await asyncio.to_thread(upgrade, url, "0003")
        site_id, now = uuid.uuid4(), now_us()
        day = 86_400 * 10**6
        times = [now, now - 90 * day, now - 5 * 365 * day]
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(sites.insert().values(id=site_id, domain="old.example",
                                                     timezone="UTC", goals_version=0,
                                                     created_at=now))
            for at in times:
                session_id = uuid.uuid4()
                await conn.execute(sessions.insert().values(
                    site_id=site_id, id=session_id, visitor_id="v", started_at=at,
                    last_seen_at=at, has_converted=False, events=1, pageviews=1))
                await conn.execute(events.insert().values(
                    site_id=site_id, id=uuid.uuid4(), session_id=session_id, visitor_id="v",
                    occurred_at=at, type="pageview", is_conversion=False))
        await engine.dispose()

        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(events))).scalar() == 3
            started = (await conn.execute(select(func.sum(rollup_hourly.c.sessions)))).scalar()
            assert started == 3
            if backend == "postgres":
                names = await partitions.monthly_partitions(conn)
                assert partitions.name_of(*partitions.month_of(times[1])) in names
                assert (await conn.execute(text(
                    f"SELECT count(*) FROM {partitions.DEFAULT}"))).scalar() == 1
        await engine.dispose()
        await asyncio.to_thread(downgrade, url, "0003")
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(events))).scalar() == 3
        await engine.dispose()
    finally:
        if to_drop:
            await databases.drop_postgres_database(to_drop)
