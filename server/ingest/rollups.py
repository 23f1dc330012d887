"""The read rollups' maintenance (tables in server/db/models.py; what they hold and how the
reads use them: server/stats/rollups.py), beside the writer that calls it:

* `counter_rows`, `visitor_sets`, `coverage_rows`: a stored batch's additions, which the
  PostgreSQL store writes in its one statement and `apply_batch` writes through SQLAlchemy
  (SQLite), in the writer's transaction; rollup_hourly.sessions is kept by the database's
  triggers on `sessions` (migration 0006);
* `subtract`: an erasure's events and sessions taken out of the exact counters;
* `rebuild`: a site's rollups recomputed from its events and sessions (a backfill, or ahead of
  retention for hours before its coverage);
* `compact_days`: the daily visitor sketches, by the daily maintenance;
* `sketch_parts` and `merge_sketch_parts`: on PostgreSQL a batch adds its visitors to each
  hour's sketch as a new part, which never waits for another transaction's lock (concurrent
  batches of a busy site would otherwise queue on that hour's one row until each commits);
  every server merges the parts into part 0 every few seconds, and `goalpost maintain` too.
  HyperLogLog merging is a register-wise maximum: in any order, any number of times, the
  sketch is the same, and readers merge every part of an hour anyway.

A site's coverage starts at the hour after its first batch; `rebuild` sets it to its first hour.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Iterable

from sqlalchemy import Uuid, bindparam, case, delete, func, literal, select, text, update

from server.clock import DAY_US, HOUR_US, hour_of, now_us
from server.db.hll import (HOURLY_SOURCES, Sketches, encode, encode_compact, encode_registers,
                           merge_into, merged, registers)
from server.db.models import NIL_UUID, rollup_coverage, rollup_hourly, visitor_sketches
from server.db.models import events as events_table
from server.db.models import sessions as sessions_table
from server.db.models import visitor_sketches_daily
from server.db.upsert import dialect_insert, insert_ignore, insert_or_touch
from server.ingest.rows import CounterRow, CoverageRow, EventRow, SketchRow

def _counter_deltas(rows: Iterable[tuple]) -> dict[tuple, list[int]]:
    """rows: (site_id, occurred_at, type, goal_id, is_conversion, micros, currency)."""
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for site_id, at, typ, goal_id, conversion, micros, currency in rows:
        h = hour_of(at)
        d = deltas[(site_id, h, NIL_UUID, "")]
        d[0] += 1
        d[1] += typ == "pageview"
        d[2] += bool(conversion)
        if currency is not None:
            deltas[(site_id, h, NIL_UUID, currency)][3] += micros
        if goal_id is not None:
            g = deltas[(site_id, h, goal_id, "")]
            g[0] += 1
            g[2] += bool(conversion)
            if currency is not None:
                deltas[(site_id, h, goal_id, currency)][3] += micros
    return deltas


async def _add_counters(conn, rows: list[CounterRow]) -> None:
    if not rows:
        return
    stmt = dialect_insert(conn, rollup_hourly)
    ex = stmt.excluded
    c = rollup_hourly.c
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["site_id", "hour", "goal_id", "currency"],
        set_={"events": c.events + ex.events, "pageviews": c.pageviews + ex.pageviews,
              "conversions": c.conversions + ex.conversions,
              "revenue_micros": c.revenue_micros + ex.revenue_micros}),
        [r._asdict() for r in rows])


async def _merge_sketches(conn, visitors: dict[tuple, set[str]]) -> None:
    if not visitors:
        return
    keys = sketch_keys(visitors)
    # one statement creates missing rows, locks them (concurrent writers merge one after the
    # other) and reads them
    c = visitor_sketches.c
    rows = await conn.execute(
        insert_or_touch(conn, visitor_sketches, ["site_id", "hour", "goal_id", "part"], "sketch")
        .returning(c.site_id, c.hour, c.goal_id, c.sketch),
        [{"site_id": s, "hour": h, "goal_id": g, "part": 0, "sketch": b""} for s, h, g in keys])
    current = {(r.site_id, r.hour, r.goal_id): r.sketch for r in rows}
    updates = []
    for key in keys:
        blob = merge_into(current.get(key), visitors[key])
        if blob is not None:
            updates.append({"b_site": key[0], "b_hour": key[1], "b_goal": key[2],
                            "b_sketch": blob})
    if updates:
        await conn.execute(
            update(visitor_sketches)
            .where(c.site_id == bindparam("b_site"), c.hour == bindparam("b_hour"),
                   c.goal_id == bindparam("b_goal"), c.part == 0)
            .values(sketch=bindparam("b_sketch")), updates)


def _visitor_sets(rows: Iterable[tuple]) -> dict[tuple, set[str]]:
    """rows: (site_id, occurred_at, goal_id, visitor_id)."""
    out: dict[tuple, set[str]] = defaultdict(set)
    for site_id, at, goal_id, visitor in rows:
        h = hour_of(at)
        out[(site_id, h, NIL_UUID)].add(visitor)
        if goal_id is not None:
            out[(site_id, h, goal_id)].add(visitor)
    return out


def counter_rows(events: list[EventRow]) -> list[CounterRow]:
    """The stored events' additions to rollup_hourly, in key order."""
    deltas = _counter_deltas(
        (e.site_id, e.occurred_at, e.type, e.goal_id, e.is_conversion, e.revenue_micros,
         e.revenue_currency) for e in events)
    return [CounterRow(*k, *d) for k, d in sorted(
        deltas.items(), key=lambda kv: (kv[0][0].bytes, kv[0][1], kv[0][2].bytes, kv[0][3]))]


def visitor_sets(events: list[EventRow]) -> dict[tuple, set[str]]:
    """(site_id, hour, goal_id) -> the stored events' visitor ids for that sketch."""
    return _visitor_sets((e.site_id, e.occurred_at, e.goal_id, e.visitor_id) for e in events)


def sketch_keys(sets: dict[tuple, set[str]]) -> list[tuple]:
    return sorted(sets, key=lambda k: (k[0].bytes, k[1], k[2].bytes))


def sketch_parts(events: list[EventRow]) -> list[SketchRow]:
    """The stored events' visitors as one new sketch part per (site, hour, goal)."""
    sets = visitor_sets(events)
    return [SketchRow(*key, encode(registers(sets[key]))) for key in sketch_keys(sets)]


# Takes (deletes and returns) up to :limit parts, skipping those another merger holds.
_TAKE_PARTS = text("""
DELETE FROM visitor_sketches v USING (
  SELECT site_id, hour, goal_id, part FROM visitor_sketches WHERE part <> 0
  ORDER BY site_id, hour, goal_id LIMIT :limit FOR UPDATE SKIP LOCKED) p
WHERE v.site_id = p.site_id AND v.hour = p.hour AND v.goal_id = p.goal_id AND v.part = p.part
RETURNING v.site_id, v.hour, v.goal_id, v.sketch""")


async def merge_sketch_parts(conn, limit: int = 20_000) -> int:
    """Merge up to `limit` sketch parts into their hour's part 0, in the caller's transaction
    (PostgreSQL; SQLite's writer merges in place and leaves no parts). Returns how many."""
    if conn.dialect.name != "postgresql":
        return 0
    taken = (await conn.execute(_TAKE_PARTS, {"limit": limit})).all()
    if not taken:
        return 0
    parts: dict[tuple, list[bytes]] = defaultdict(list)
    for site_id, hour, goal_id, sketch in taken:
        parts[(site_id, hour, goal_id)].append(sketch)
    keys = sorted(parts, key=lambda k: (k[0].bytes, k[1], k[2].bytes))  # lock order
    c = visitor_sketches.c
    current = await conn.execute(
        insert_or_touch(conn, visitor_sketches, ["site_id", "hour", "goal_id", "part"], "sketch")
        .returning(c.site_id, c.hour, c.goal_id, c.sketch),
        [{"site_id": s, "hour": h, "goal_id": g, "part": 0, "sketch": b""} for s, h, g in keys])
    for site_id, hour, goal_id, sketch in current:
        parts[(site_id, hour, goal_id)].append(sketch)
    await conn.execute(
        update(visitor_sketches)
        .where(c.site_id == bindparam("b_site"), c.hour == bindparam("b_hour"),
               c.goal_id == bindparam("b_goal"), c.part == 0)
        .values(sketch=bindparam("b_sketch")),
        [{"b_site": s, "b_hour": h, "b_goal": g,
          "b_sketch": encode_registers(merged(parts[(s, h, g)]))} for s, h, g in keys])
    return len(taken)


def coverage_rows(events: list[EventRow]) -> list[CoverageRow]:
    """For sites that have no coverage yet: from the next hour on."""
    next_hour = hour_of(now_us()) + HOUR_US
    return [CoverageRow(s, next_hour)
            for s in sorted({e.site_id for e in events}, key=lambda s: s.bytes)]


async def apply_batch(conn, events: list[EventRow]) -> None:
    """Add a batch's stored events to the rollups, in the writer's transaction (SQLAlchemy;
    server/ingest/batch_store_pg.py writes the same rows with asyncpg)."""
    if not events:
        return
    await _add_counters(conn, counter_rows(events))
    await _merge_sketches(conn, visitor_sets(events))
    await conn.execute(insert_ignore(conn, rollup_coverage,
                                     [r._asdict() for r in coverage_rows(events)]))


async def subtract(conn, erased: list[tuple], session_starts: list[tuple[uuid.UUID, int]]
                   ) -> None:
    """Take erased events and sessions out of the exact counters (sketches keep them: a
    HyperLogLog register cannot be decremented). erased: (site_id, occurred_at, type, goal_id,
    is_conversion, revenue_micros, revenue_currency); session_starts: (site_id, started_at)."""
    deltas = _counter_deltas(erased)
    started: dict[tuple, int] = defaultdict(int)
    for site_id, started_at in session_starts:
        key = (site_id, hour_of(started_at), NIL_UUID, "")
        started[key] += 1
        deltas.setdefault(key, [0, 0, 0, 0])  # a session may start in an hour of no erased event
    if not deltas:
        return
    c = rollup_hourly.c
    await conn.execute(
        update(rollup_hourly)
        .where(c.site_id == bindparam("b_site"), c.hour == bindparam("b_hour"),
               c.goal_id == bindparam("b_goal"), c.currency == bindparam("b_currency"))
        .values(events=c.events - bindparam("b_events"),
                pageviews=c.pageviews - bindparam("b_pageviews"),
                conversions=c.conversions - bindparam("b_conversions"),
                revenue_micros=c.revenue_micros - bindparam("b_micros"),
                sessions=c.sessions - bindparam("b_sessions")),
        [{"b_site": k[0], "b_hour": k[1], "b_goal": k[2], "b_currency": k[3], "b_events": d[0],
          "b_pageviews": d[1], "b_conversions": d[2], "b_micros": d[3],
          "b_sessions": started.get(k, 0)}
         for k, d in sorted(deltas.items(), key=lambda kv: (kv[0][0].bytes, kv[0][1],
                                                            kv[0][2].bytes, kv[0][3]))])


async def rebuild(conn, site_id: uuid.UUID, before_hour: int | None = None) -> None:
    """Recompute a site's rollups from its stored events and sessions: every hour, or only the
    hours before `before_hour` (those before its coverage, e.g. ahead of retention deleting
    their events). Run it while no events of those hours are being stored, or run it again."""
    def hours_of(table):
        return (table.c.site_id == site_id) & (
            table.c.hour < before_hour if before_hour is not None else True)

    for table in (rollup_hourly, visitor_sketches):
        await conn.execute(delete(table).where(hours_of(table)))
    await conn.execute(delete(rollup_coverage).where(rollup_coverage.c.site_id == site_id))
    e = events_table.c
    mine = e.site_id == site_id
    if before_hour is not None:
        mine = mine & (e.occurred_at < before_hour)
    hour = (e.occurred_at - e.occurred_at % HOUR_US)
    conversion = func.sum(case((e.is_conversion, 1), else_=0))
    # counters with SQL (both databases): site-wide, per currency, per goal, per goal+currency
    queries = [
        select(e.site_id, hour.label("hour"), literal(NIL_UUID, e.site_id.type).label("goal_id"),
               literal("").label("currency"), func.count().label("events"),
               func.sum(case((e.type == "pageview", 1), else_=0)),
               conversion, literal(0), literal(0))
        .where(mine).group_by(e.site_id, hour),
        select(e.site_id, hour, literal(NIL_UUID, e.site_id.type), e.revenue_currency,
               literal(0), literal(0), literal(0), func.sum(e.revenue_micros), literal(0))
        .where(mine, e.revenue_currency.is_not(None))
        .group_by(e.site_id, hour, e.revenue_currency),
        select(e.site_id, hour, e.goal_id, literal(""), func.count(), literal(0), conversion,
               literal(0), literal(0))
        .where(mine, e.goal_id.is_not(None)).group_by(e.site_id, hour, e.goal_id),
        select(e.site_id, hour, e.goal_id, e.revenue_currency, literal(0), literal(0),
               literal(0), func.sum(e.revenue_micros), literal(0))
        .where(mine, e.goal_id.is_not(None), e.revenue_currency.is_not(None))
        .group_by(e.site_id, hour, e.goal_id, e.revenue_currency),
    ]
    columns = ["site_id", "hour", "goal_id", "currency", "events", "pageviews", "conversions",
               "revenue_micros", "sessions"]
    for query in queries:
        await conn.execute(rollup_hourly.insert().from_select(columns, query))
    # sessions started per hour (kept by triggers from then on), beside the counters above
    s = sessions_table.c
    started = s.started_at - s.started_at % HOUR_US
    started_here = s.site_id == site_id
    if before_hour is not None:
        started_here = started_here & (s.started_at < before_hour)
    upsert = dialect_insert(conn, rollup_hourly).from_select(columns, select(
        s.site_id, started, literal(NIL_UUID, s.site_id.type), literal(""), literal(0),
        literal(0), literal(0), literal(0), func.count()).where(started_here)
        .group_by(s.site_id, started))
    await conn.execute(upsert.on_conflict_do_update(
        index_elements=["site_id", "hour", "goal_id", "currency"],
        set_={"sessions": upsert.excluded.sessions}))
    first = await _rebuild_sketches(conn, mine, hour)
    since = 0 if first is None else first
    if before_hour is not None:
        since = min(since, before_hour) if first is not None else before_hour
    await conn.execute(rollup_coverage.insert().values(site_id=site_id, since_hour=since))


async def _rebuild_sketches(conn, mine, hour) -> int | None:
    """Write the sketches of the events `mine` selects (part 0 rows); returns their first hour.
    Streamed in hour order: an hour's sketches are written once the next hour is read."""
    e = events_table.c
    sketches = Sketches()
    rows: list[dict] = []
    first = None

    async def close(before: int | None) -> None:
        """Encode the sketches of the hours before `before` (None: all), write full batches."""
        done = [k for k in sketches.keys() if before is None or k[1] < before]
        rows.extend({"site_id": k[0], "hour": k[1], "goal_id": k[2], "sketch": blob}
                    for k, blob in sketches.take(done))
        while len(rows) >= 5000 or (before is None and rows):
            await conn.execute(visitor_sketches.insert(), rows[:5000])
            del rows[:5000]

    # one row per visitor, hour and goal: the database drops the repeats before Python hashes
    labelled = hour.label("hour")
    result = await conn.stream(select(e.site_id, labelled, e.goal_id, e.visitor_id)
                               .where(mine).distinct().order_by(labelled))
    async for part in result.partitions(50_000):
        for site_id, h, goal_id, visitor in part:
            code = sketches.code(visitor)
            sketches.add((site_id, h, NIL_UUID), code)
            if goal_id is not None:
                sketches.add((site_id, h, goal_id), code)
        first = part[0][1] if first is None else first
        await close(part[-1][1])
    await close(None)
    return first


# --------------------------------------------------------------------------- daily sketches (PostgreSQL)
# PostgreSQL: a day's hourly sketches merged into one row by the daily maintenance. A row is
# used only while the hourly rows it was made from are unchanged (their count and the sum of
# their xmin, which every UPDATE or re-insert moves), so a late event merged into an hourly
# sketch of a compacted day is never lost: that day is read hour by hour until the next
# compaction.

_STALE_DAYS = text(f"""
SELECT h.site_id, h.day, h.goal_id FROM ({HOURLY_SOURCES} WHERE hour < :closed
  GROUP BY 1, 2, 3) h
LEFT JOIN visitor_sketches_daily d
  ON d.site_id = h.site_id AND d.day = h.day AND d.goal_id = h.goal_id
WHERE d.site_id IS NULL OR d.source_rows <> h.n OR d.source_xmin <> h.fp
ORDER BY 1, 2, 3""")

_DAY_SOURCES = text("""
SELECT sketch, xmin::text::bigint AS x FROM visitor_sketches
WHERE site_id = :site AND goal_id = :goal AND hour >= :d AND hour < :d + :day""").bindparams(
    bindparam("site", type_=Uuid), bindparam("goal", type_=Uuid))


async def compact_days(conn, now: int) -> int:
    """Merge the hourly sketches of every day that ended over an hour ago and has no current
    daily row (PostgreSQL). Returns how many daily rows were written."""
    if conn.dialect.name != "postgresql":
        return 0
    closed = hour_of(now - HOUR_US)
    closed -= closed % DAY_US
    stale = (await conn.execute(_STALE_DAYS, {"day": DAY_US, "closed": closed})).all()
    for site_id, day, goal_id in stale:
        rows = (await conn.execute(_DAY_SOURCES, {"site": site_id, "goal": goal_id, "d": day,
                                                  "day": DAY_US})).all()
        stmt = dialect_insert(conn, visitor_sketches_daily).values(
            site_id=site_id, day=day, goal_id=goal_id,
            sketch=encode_compact(merged(r.sketch for r in rows)),
            source_rows=len(rows), source_xmin=sum(int(r.x) for r in rows))
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["site_id", "day", "goal_id"],
            set_={c: stmt.excluded[c] for c in ("sketch", "source_rows", "source_xmin")}))
    return len(stale)
