"""Retention: raw data older than `GOALPOST_RETENTION_DAYS` goes, totals stay.

What goes at the cut-off (now - retention days):
* events: on PostgreSQL whole monthly partitions that end before the cut-off are dropped (so an
  event is kept up to a month longer than the retention), and the default partition's older
  rows are deleted in bounded batches; on SQLite older rows are deleted in bounded batches, one
  short transaction each, so ingestion keeps going in between;
* sessions that ended before the cut-off, and idempotency keys (event_keys) made before it.

What stays: the hourly rollups (counters, revenue, sessions started, visitor sketches) and the
dimension rollups (breakdowns). Before events go, the rollups are made complete for every hour
they would lose, the dimension rollups built for those hours, (a site whose
coverage starts later, e.g. one with events from before the rollups existed, is rebuilt for
those hours), so kpis / goalStats / timeseries over whole old hours answer as before. Rollups
have their own, longer setting, `GOALPOST_ROLLUP_RETENTION_DAYS` (unset: kept forever).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, text, tuple_

from server.clock import DAY_US
from server.db import partitions
from server.db.engine import Database
from server.db.models import (
    dimension_built, dimension_counters, dimension_sketches, event_keys, events, rollup_hourly,
    sessions, sites, visitor_sketches, visitor_sketches_daily,
)
from server.clock import hour_of
from server.ingest import rollups
from server.stats import dimension_rollups
from server.stats.rollups import coverage

log = logging.getLogger("goalpost.retention")

BATCH = 5_000


@dataclass
class Pruned:
    partitions_dropped: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    sites_rebuilt: int = 0

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


async def apply(db: Database, *, now_us: int, days: int, rollup_days: int = 0) -> Pruned:
    pruned = Pruned()
    if days > 0:
        cutoff = now_us - days * DAY_US
        for table in ("events", "sessions", "event_keys"):
            pruned.add(table, 0)
        for site_id in await _site_ids(db):
            if await _complete_rollups(db, site_id, cutoff):
                pruned.sites_rebuilt += 1
        # the dimension rollups are built from the events too: the hours about to lose theirs
        await dimension_rollups.maintain(db, now_us, until=cutoff)
        await _prune_events(db, cutoff, pruned)
        for site_id in await _site_ids(db):
            s, k = sessions.c, event_keys.c
            pruned.add("sessions", await delete_in_batches(
                db, sessions, (s.site_id == site_id) & (s.started_at < cutoff)
                & (s.last_seen_at < cutoff)))
            pruned.add("event_keys", await delete_in_batches(
                db, event_keys, (k.site_id == site_id) & (k.created_at < cutoff)))
    if rollup_days > 0:
        cutoff = hour_of(now_us - rollup_days * DAY_US)
        for site_id in await _site_ids(db):
            for table in (rollup_hourly, visitor_sketches):
                pruned.add(table.name, await delete_in_batches(
                    db, table, (table.c.site_id == site_id) & (table.c.hour < cutoff)))
            daily = visitor_sketches_daily
            pruned.add(daily.name, await delete_in_batches(
                db, daily, (daily.c.site_id == site_id) & (daily.c.day < cutoff)))
            for table in (dimension_sketches, dimension_counters, dimension_built):
                pruned.add(table.name, await delete_in_batches(
                    db, table, (table.c.site_id == site_id) & (table.c.start < cutoff)))
    return pruned


async def _site_ids(db: Database) -> list[uuid.UUID]:
    async with db.write.connect() as conn:
        return list((await conn.execute(select(sites.c.id).order_by(sites.c.id))).scalars())


async def _complete_rollups(db: Database, site_id: uuid.UUID, cutoff: int) -> bool:
    """Rebuild the rollups of the hours before the site's coverage when events of those hours
    are about to go. True when it did."""
    async with db.write.begin() as conn:
        await _lock(conn)
        since = await coverage(conn, site_id)
        oldest = (await conn.execute(select(func.min(events.c.occurred_at))
                                     .where(events.c.site_id == site_id))).scalar()
        if oldest is None or oldest >= cutoff or (since is not None and oldest >= since):
            return False
        await rollups.rebuild(conn, site_id, before_hour=since)
        log.info("rollups of site %s rebuilt before %s ahead of retention", site_id, since)
        return True


async def _prune_events(db: Database, cutoff: int, pruned: Pruned) -> None:
    if db.is_sqlite:
        for site_id in await _site_ids(db):
            pruned.add("events", await delete_in_batches(
                db, events, (events.c.site_id == site_id) & (events.c.occurred_at < cutoff)))
        return
    async with db.write.connect() as conn:
        names = await partitions.monthly_partitions(conn)
        partitioned = bool(names) or (await conn.execute(
            text(partitions.IS_PARTITIONED))).scalar()
    for name in names:
        year, month = partitions.month_of_name(name)
        if partitions.bounds(year, month)[1] <= cutoff:
            async with db.write.begin() as conn:
                await _lock(conn)
                # a short wait at most: ingestion must not queue behind the drop
                await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            pruned.partitions_dropped.append(name)
            log.info("dropped partition %s (retention cut-off %s)", name, cutoff)
    if partitioned:
        table = partitions.DEFAULT
        while True:
            async with db.write.begin() as conn:
                n = (await conn.execute(text(
                    f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                    f"SELECT ctid FROM {table} WHERE occurred_at < :c LIMIT {BATCH}))"),
                    {"c": cutoff})).rowcount
            pruned.add("events", n)
            if n < BATCH:
                return
    else:
        pruned.add("events", await delete_in_batches(db, events, events.c.occurred_at < cutoff))


async def delete_in_batches(db: Database, table, where, batch: int = BATCH) -> int:
    """Delete the rows matching `where`, at most `batch` per transaction."""
    key = tuple_(*table.primary_key.columns)
    total = 0
    while True:
        async with db.write.begin() as conn:
            n = (await conn.execute(delete(table).where(key.in_(
                select(*table.primary_key.columns).where(where).limit(batch))))).rowcount
        total += n
        if n < batch:
            return total


async def _lock(conn) -> None:
    """One maintenance at a time across processes (PostgreSQL; SQLite writers queue anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": partitions.LOCK_KEY})
