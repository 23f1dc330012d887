"""Retention: raw events older than GOALPOST_RETENTION_DAYS go (on PostgreSQL whole monthly
partitions are dropped), and the totals over those hours stay, read from the rollups."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text

from server.clock import from_datetime
from server.db import partitions
from server.db.models import events, sessions
from server.lifecycle.maintenance import Maintenance
from server.sites import service as sites
from tests.api.graphql.conftest import Api, Events, create_goal, iso
from tests.api.graphql.test_attribution import BREAKDOWN
from tests.api.graphql.test_reads import GOAL_STATS, KPIS
from tests.conftest import ADMIN_TOKEN


async def _count(db, table, site_id, column, before: int) -> int:
    async with db.write.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(
            table.c.site_id == site_id, column < before))).scalar_one()


async def test_old_events_go_and_their_totals_stay(fresh_app):
    app, client = fresh_app
    db = app.state.db
    admin = Api(app, ADMIN_TOKEN)
    site = await sites.create(db, domain="retained.example")
    await create_goal(admin, site.id, "Buy")
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    old = now - timedelta(days=120)
    ancient = now - timedelta(days=800)
    if not db.is_sqlite:
        # the monthly partitions a server running back then would have made
        await Maintenance(db).run(now=from_datetime(old))
        async with db.write.connect() as conn:
            assert partitions.name_of(old.year, old.month) in \
                await partitions.monthly_partitions(conn)
    sender = Events(client, site)
    for i, visitor in enumerate(["a", "b", "c", "a"]):
        at = old + timedelta(minutes=40 * i)
        await sender.send(at=at, visitor=visitor, event_id=f"old-{i}")
        await sender.send(at=at + timedelta(seconds=5), visitor=visitor, name="Buy",
                          revenue={"amount": "2.50", "currency": "EUR"})
    await sender.send(at=ancient, visitor="z", name="Buy",
                      revenue={"amount": "1.00", "currency": "USD"})  # the default partition
    await sender.send(at=now - timedelta(hours=1), visitor="new", name="Buy",
                      revenue={"amount": "7.00", "currency": "USD"})
    ranges = [{"from": iso(old), "to": iso(old + timedelta(hours=3))},
              {"from": iso(ancient - timedelta(minutes=ancient.minute)),
               "to": iso(ancient + timedelta(hours=1))},
              {"from": iso(now - timedelta(hours=2)), "to": iso(now + timedelta(hours=1))}]

    async def totals():
        return [(await admin(KPIS, s=str(site.id), r=r), await admin(GOAL_STATS, s=str(site.id),
                                                                     r=r),
                 *[await admin(BREAKDOWN, s=str(site.id), r=r, by=by) for by in ("SOURCE", "PAGE")])
                for r in ranges]

    before = await totals()
    assert before[0][0]["kpis"]["pageviews"] == 4 and before[0][0]["kpis"]["visitors"] == 3
    assert before[1][0]["kpis"]["conversions"] == 1
    assert before[0][3]["breakdown"][0]["visitors"] == 3  # PAGE: / (the dimension rollups')

    report = await Maintenance(db, retention_days=30).run()

    cutoff = from_datetime(now - timedelta(days=30))
    assert await _count(db, events, site.id, events.c.occurred_at, cutoff) == 0
    assert await _count(db, sessions, site.id, sessions.c.last_seen_at, cutoff) == 0
    assert await _count(db, events, site.id, events.c.occurred_at, 2**62) == 1  # the new one
    if not db.is_sqlite:
        gone = partitions.name_of(old.year, old.month)
        assert gone in report.pruned.partitions_dropped
        async with db.write.connect() as conn:
            assert gone not in await partitions.monthly_partitions(conn)
            assert (await conn.execute(text(f"SELECT to_regclass('{gone}')"))).scalar() is None
            this = partitions.month_of(from_datetime(now))
            assert partitions.name_of(*this) in await partitions.monthly_partitions(conn)
    assert await totals() == before

    # the rollups have their own, longer retention; past it the old totals go too
    await Maintenance(db, retention_days=30, rollup_retention_days=60).run()
    after = await totals()
    assert after[0][0]["kpis"]["pageviews"] == 0 and after[0][0]["kpis"]["revenue"] == []
    assert after[2] == before[2]
