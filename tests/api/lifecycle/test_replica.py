"""GOALPOST_READ_DATABASE_URL: GraphQL's analytics reads are served by a real streaming replica
(started by the test beside a private primary), while ingestion, mutations and configuration
reads use the primary. Proof: with the replica's replay paused, kpis keeps answering what the
replica has, while the primary already holds more; resumed, kpis catches up."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import asyncpg
import pytest

from server.db.migrate import upgrade
from tests.api.graphql.conftest import Api, Events, create_goal, hours_ago
from tests.api.graphql.test_attribution import BREAKDOWN
from tests.api.graphql.test_reads import KPIS
from tests.conftest import ADMIN_TOKEN, make_settings, running_app
from tests.support import databases, replica

GOALS = "query($s: ID!) { goals(siteId: $s) { name } }"
CREATE_SITE = 'mutation { createSite(domain: "replicated.example") { id domain } }'


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def visitors_by_source(api, site_id) -> int:
    rows = (await api(BREAKDOWN, s=site_id, by="SOURCE"))["breakdown"]
    return sum(row["visitors"] for row in rows)


async def _caught_up(primary: asyncpg.Connection, standby: asyncpg.Connection) -> None:
    target = await primary.fetchval("SELECT pg_current_wal_lsn()")
    for _ in range(600):  # a wait for replication, not a timing assertion
        if await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replica did not catch up")


async def test_analytics_reads_are_served_by_the_replica():
    if replica.bin_dir() is None:
        if databases.POSTGRES_REQUIRED:
            pytest.fail("PostgreSQL server binaries are required but missing")
        pytest.skip("no PostgreSQL server binaries")
    with replica.primary_and_replica() as pair:
        admin_conn = await asyncpg.connect(_plain(pair.url(pair.primary_port, "postgres")))
        await admin_conn.execute('CREATE DATABASE "goalpost"')
        await admin_conn.close()
        primary_url = pair.url(pair.primary_port, "goalpost")
        replica_url = pair.url(pair.replica_port, "goalpost")
        await asyncio.to_thread(upgrade, primary_url)
        primary = await asyncpg.connect(_plain(primary_url))
        standby = await asyncpg.connect(_plain(replica_url))
        try:
            assert await standby.fetchval("SELECT pg_is_in_recovery()")
            settings = make_settings(primary_url, read_database_url=replica_url)
            async with running_app(settings) as (app, client):
                api = Api(app, ADMIN_TOKEN)
                site = (await api(CREATE_SITE))["createSite"]
                site_id = site["id"]
                sender = Events(client, SimpleNamespace(domain=site["domain"]))
                await sender.send(at=hours_ago(1), visitor="a")
                await sender.send(at=hours_ago(1), visitor="b")
                await _caught_up(primary, standby)
                assert (await api(KPIS, s=site_id))["kpis"]["pageviews"] == 2

                await standby.execute("SELECT pg_wal_replay_pause()")
                await sender.send(at=hours_ago(1), visitor="c")  # stored on the primary
                assert await primary.fetchval("SELECT count(*) FROM events") == 3
                assert (await api(KPIS, s=site_id))["kpis"]["pageviews"] == 2  # the replica
                assert await visitors_by_source(api, site_id) == 2  # the replica too
                await create_goal(api, site_id, "Fresh")  # a mutation, and a read after it:
                assert (await api(GOALS, s=site_id))["goals"] == [{"name": "Fresh"}]  # primary
                await standby.execute("SELECT pg_wal_replay_resume()")
                await _caught_up(primary, standby)
                assert (await api(KPIS, s=site_id))["kpis"]["pageviews"] == 3
                assert await visitors_by_source(api, site_id) == 3
        finally:
            await primary.close()
            await standby.close()
