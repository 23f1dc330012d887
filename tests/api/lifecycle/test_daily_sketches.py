"""Daily visitor sketches (PostgreSQL): the maintenance merges each ended day's hourly sketches
into one, reads over whole days use it and answer as the hourly ones did, and a late event
merged into an hour of a compacted day is counted (the day is read hour by hour until it is
compacted again). On SQLite there are none and the reads are the hourly ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update

from server.clock import from_datetime

from server.db.models import visitor_sketches_daily
from server.lifecycle.maintenance import Maintenance
from server.db import hll
from server.db.models import NIL_UUID
from server.ingest import rollups
from tests.api.graphql.conftest import Events, create_goal, iso
from tests.api.graphql.test_reads import GOAL_STATS, KPIS


async def test_daily_sketches_answer_as_the_hourly_ones(admin, client, site, db):
    await create_goal(admin, site.id, "Buy")
    sender = Events(client, site)
    # a day is compacted once it ended over an hour ago: between 00:00 and 01:00 UTC yesterday
    # has not, so "today" is the day of two hours ago
    today = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(hour=0, minute=0, second=0,
                                                                      microsecond=0)
    first = today - timedelta(days=3)
    for i in range(30):
        at = first + timedelta(hours=2 * i, minutes=7)
        await sender.send(at=at, visitor=f"v{i % 13}")
        if i % 4 == 0:
            await sender.send(at=at + timedelta(seconds=3), visitor=f"v{i % 13}", name="Buy")
    async with db.write.begin() as conn:  # coverage from the first hour
        await rollups.rebuild(conn, site.id)
    r = {"from": iso(first), "to": iso(today)}

    async def read():
        return await admin(KPIS, s=str(site.id), r=r), await admin(GOAL_STATS, s=str(site.id),
                                                                   r=r)

    hourly = await read()
    assert hourly[0]["kpis"]["visitors"] == 13
    report = await Maintenance(db).run()
    async with db.write.connect() as conn:
        days = (await conn.execute(select(func.count()).select_from(visitor_sketches_daily)
                                   .where(visitor_sketches_daily.c.site_id == site.id))).scalar()
    if db.is_sqlite:
        assert days == 0
    else:
        assert report.days_compacted >= 6 and days == 6  # 3 days x (the site, Buy)
        # reads do take the daily rows: one with 500 more visitors shows them
        d = visitor_sketches_daily.c
        async with db.write.begin() as conn:
            await conn.execute(update(visitor_sketches_daily).where(
                d.site_id == site.id, d.goal_id == NIL_UUID, d.day == from_datetime(first)
            ).values(sketch=hll.encode(hll.registers(f"x{i}" for i in range(500)))))
        assert (await read())[0]["kpis"]["visitors"] > 400
        async with db.write.begin() as conn:
            await conn.execute(delete(visitor_sketches_daily).where(d.site_id == site.id))
        await Maintenance(db).run()
    assert await read() == hourly

    # a late visitor in an hour of a compacted day
    await sender.send(at=first + timedelta(hours=5), visitor="late", name="Buy")
    late = await read()
    assert late[0]["kpis"]["visitors"] == 14
    assert late[1]["goalStats"][0]["uniqueVisitors"] == hourly[1]["goalStats"][0][
        "uniqueVisitors"] + 1
    await Maintenance(db).run()
    assert await read() == late
