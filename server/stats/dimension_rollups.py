"""Hourly rollups of the low-cardinality session dimensions, for breakdowns and filtered KPIs.

Why: distinct visitors per source (or browser, device, ...) over a month of events is a
count(DISTINCT) over every event of the range joined to its session: 0.5-1 s at 1M events on
PostgreSQL. Merging hourly HyperLogLog sketches answers it in milliseconds, with the 0.81 %
standard error of the site's visitor counts (server/stats/rollups.py; exact up to a few thousand
visitors).

What (server/db/models.py, migration 0005): per site, UTC hour, dimension and value ('' = the
sessions without a value), the sketch of the visitors of that hour's events in those sessions
and their pageviews (`dimension_sketches`); their conversions and revenue per goal and currency
(`dimension_counters`, exact integer sums); per site and hour (`dimension_hours`), the site's
rollup_hourly counters (events, pageviews, conversions) that the hour was built from.

How they stay true without the writer knowing of them: a session's attribution never changes
once stored, so an hour's rows change only when events are added to (or removed from) that hour,
and then rollup_hourly's counters for it - maintained exactly in the writer's transaction - move.
A read first compares the two for the whole hours it needs (the hours rollup_coverage covers)
and rebuilds, from the events, the hours that are missing or moved; only then it reads. A busy
site pays for each hour once, on the first read after the hour has passed.

Only SOURCE, UTM_*, BROWSER, OS and DEVICE are rolled up: a page or entry page takes hundreds of
values an hour, and those breakdowns read the events (server/stats/breakdown.py).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import and_, delete, func, select

from server.db import hll
from server.db.engine import Database
from server.db.models import (
    dimension_counters,
    dimension_hours,
    dimension_sketches,
    events,
    rollup_hourly,
    sessions,
)
from server.db.upsert import dialect_insert
from server.stats import rollups
from server.stats.rollups import HOUR_US, NIL_UUID

ROLLED = {"SOURCE": "source", "UTM_SOURCE": "utm_source", "UTM_MEDIUM": "utm_medium",
          "UTM_CAMPAIGN": "utm_campaign", "UTM_TERM": "utm_term", "UTM_CONTENT": "utm_content",
          "BROWSER": "browser", "OS": "os", "DEVICE": "device"}
NONE = ""  # the value key of the sessions without a value (no stored value is empty)


def key_of(value: str | None) -> str:
    return NONE if value is None else value


def value_of(key: str) -> str | None:
    return None if key == NONE else key


async def ensure(db: Database, conn, site_id: uuid.UUID, h0: int, h1: int) -> None:
    """Build the hours in [h0, h1) whose rows are missing or older than their events (`conn`:
    a read connection; the building has its own transaction)."""
    h = rollup_hourly.c
    d = dimension_hours.c
    want = {r.hour: (r.events, r.pageviews, r.conversions) for r in await conn.execute(
        select(h.hour, h.events, h.pageviews, h.conversions)
        .where(h.site_id == site_id, h.goal_id == NIL_UUID, h.currency == "",
               h.hour >= h0, h.hour < h1))}
    have = {r.hour: (r.events, r.pageviews, r.conversions) for r in await conn.execute(
        select(d.hour, d.events, d.pageviews, d.conversions)
        .where(d.site_id == site_id, d.hour >= h0, d.hour < h1))}
    stale = sorted(hour for hour in want.keys() | have.keys() if want.get(hour) != have.get(hour))
    if stale:
        await _build(db, site_id, stale, want)
        await conn.commit()  # end the read's snapshot (SQLite): what follows sees the build


def _runs(hours: list[int]) -> list[tuple[int, int]]:
    """Sorted hours -> [start, end) runs of consecutive hours."""
    runs: list[list[int]] = []
    for hour in hours:
        if runs and runs[-1][1] == hour:
            runs[-1][1] = hour + HOUR_US
        else:
            runs.append([hour, hour + HOUR_US])
    return [(a, b) for a, b in runs]


async def _build(db: Database, site_id: uuid.UUID, hours: list[int],
                 want: dict[int, tuple[int, int, int]]) -> None:
    """The hours' rows from their events: the counters summed by the database over (hour,
    attribution, kind of event); the sketches from one row per hour, visitor and attribution,
    in hour order, each visitor hashed once (a month at 10M events: 4M rows, not 10M x 9)."""
    e, s = events.c, sessions.c
    attribution = [s[c].label(c) for c in ROLLED.values()]
    hour = (e.occurred_at - e.occurred_at % HOUR_US).label("hour")
    joined = events.join(sessions, and_(s.site_id == e.site_id, s.id == e.session_id))
    pageviews: dict[tuple, int] = defaultdict(int)
    # (hour, dimension, value, goal_id, currency) -> [conversions, conversion_micros, micros]
    counters: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    sketches = hll.Sketches()
    async with db.write.begin() as conn:
        # The hour is marked with the counters compared in ensure(): a batch that commits into
        # it after they were read moves rollup_hourly past them, and the next read builds the
        # hour again.
        for table in (dimension_sketches, dimension_counters):
            await conn.execute(delete(table).where(table.c.site_id == site_id,
                                                   table.c.hour.in_(hours)))
        gone = [hour_ for hour_ in hours if hour_ not in want]  # no events any more
        if gone:
            await conn.execute(delete(dimension_hours).where(
                dimension_hours.c.site_id == site_id, dimension_hours.c.hour.in_(gone)))
        sketch_rows: list[dict] = []

        async def write(before: int | None) -> None:
            """Encode the sketches of the hours before `before` (None: all), write batches."""
            done = [k for k in sketches.keys() if before is None or k[0] < before]
            sketch_rows.extend(
                {"site_id": site_id, "hour": k[0], "dimension": k[1], "value": k[2],
                 "pageviews": pageviews.get(k, 0), "sketch": blob}
                for k, blob in sketches.take(done))
            while len(sketch_rows) >= 5000 or (before is None and sketch_rows):
                await conn.execute(_upsert_sketches(conn), sketch_rows[:5000])
                del sketch_rows[:5000]

        for a, b in _runs(hours):
            mine = [e.site_id == site_id, s.site_id == site_id, e.occurred_at >= a,
                    e.occurred_at < b]
            pageview = (e.type == "pageview").label("pageview")
            kind = [pageview, e.is_conversion, e.goal_id, e.revenue_currency]
            for row in await conn.execute(
                    select(hour, *attribution, *kind, func.count().label("n"),
                           func.sum(e.revenue_micros).label("micros"))
                    .select_from(joined).where(*mine).group_by(hour, *attribution, *kind)):
                micros = None if row.micros is None else int(row.micros)  # numeric sums
                values = row._mapping
                for dimension, column in ROLLED.items():
                    key = (row.hour, dimension, key_of(values[column]))
                    if row.pageview:
                        pageviews[key] += row.n
                    _count(counters, key, row.is_conversion, row.goal_id, row.revenue_currency,
                           row.n, micros)
            result = await conn.stream(select(hour, e.visitor_id, *attribution)
                                       .select_from(joined).where(*mine).distinct()
                                       .order_by(hour))
            async for part in result.partitions(50_000):
                for row in part:
                    code = sketches.code(row.visitor_id)
                    values = row._mapping
                    for dimension, column in ROLLED.items():
                        sketches.add((row.hour, dimension, key_of(values[column])), code)
                await write(part[-1].hour)
        await write(None)
        rows = [{"site_id": site_id, "hour": k[0], "dimension": k[1], "value": k[2],
                 "goal_id": k[3], "currency": k[4], "conversions": n, "conversion_micros": cm,
                 "revenue_micros": m} for k, (n, cm, m) in counters.items()]
        for start in range(0, len(rows), 5000):
            await conn.execute(_upsert_counters(conn), rows[start:start + 5000])
        built = [{"site_id": site_id, "hour": hour_, "events": n, "pageviews": p,
                  "conversions": c} for hour_ in hours if hour_ in want
                 for n, p, c in [want[hour_]]]
        if built:
            stmt = dialect_insert(conn, dimension_hours)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["site_id", "hour"],
                set_={"events": stmt.excluded.events, "pageviews": stmt.excluded.pageviews,
                      "conversions": stmt.excluded.conversions}), built)


def _count(counters: dict, key: tuple, conversion: bool, goal_id, currency, n: int,
           micros) -> None:
    """Add `n` events of one kind (their revenue summed in `micros`)."""
    if conversion:
        counters[(*key, NIL_UUID, "")][0] += n
        if currency is not None:
            counters[(*key, NIL_UUID, currency)][1] += micros
    if goal_id is not None:
        counters[(*key, goal_id, "")][0] += n
        if currency is not None:
            counters[(*key, goal_id, currency)][1] += micros
    if currency is not None:
        counters[(*key, NIL_UUID, currency)][2] += micros


def _upsert_counters(conn):
    stmt = dialect_insert(conn, dimension_counters)
    ex = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["site_id", "dimension", "hour", "value", "goal_id", "currency"],
        set_={"conversions": ex.conversions, "conversion_micros": ex.conversion_micros,
              "revenue_micros": ex.revenue_micros})


def _upsert_sketches(conn):
    # two processes may build one hour at once: both write the same rows
    stmt = dialect_insert(conn, dimension_sketches)
    return stmt.on_conflict_do_update(
        index_elements=["site_id", "dimension", "hour", "value"],
        set_={"pageviews": stmt.excluded.pageviews, "sketch": stmt.excluded.sketch})


async def sketches(conn, site_id: uuid.UUID, dimension: str, h0: int, h1: int,
                   value: str | None = ...) -> tuple[dict[str | None, list[bytes]],
                                                     dict[str | None, int]]:
    """(value -> sketches, value -> pageviews) of a dimension over the built hours [h0, h1);
    `value` given: that value only."""
    c = dimension_sketches.c
    where = [c.site_id == site_id, c.dimension == dimension, c.hour >= h0, c.hour < h1]
    if value is not ...:
        where.append(c.value == key_of(value))
    blobs: dict[str | None, list[bytes]] = defaultdict(list)
    views: dict[str | None, int] = defaultdict(int)
    for key, pageviews, sketch in await conn.execute(
            select(c.value, c.pageviews, c.sketch).where(*where)):
        blobs[value_of(key)].append(sketch)
        views[value_of(key)] += int(pageviews)
    return blobs, views


async def counters(conn, site_id: uuid.UUID, dimension: str, h0: int, h1: int, *,
                   goal_id: uuid.UUID | None = None, value: str | None = ...
                   ) -> tuple[dict[str | None, int], dict[str | None, list], dict[str | None, list]]:
    """Over the built hours [h0, h1), per value: conversions (of `goal_id`, else of any
    conversion goal), their revenue [(currency, micros)], and the revenue of every event."""
    c = dimension_counters.c
    where = [c.site_id == site_id, c.dimension == dimension, c.hour >= h0, c.hour < h1,
             c.goal_id.in_([NIL_UUID, goal_id]) if goal_id is not None else c.goal_id == NIL_UUID]
    if value is not ...:
        where.append(c.value == key_of(value))
    conversions: dict[str | None, int] = defaultdict(int)
    converted_money: dict[str | None, list] = defaultdict(list)
    all_money: dict[str | None, list] = defaultdict(list)
    wanted = NIL_UUID if goal_id is None else goal_id
    for key, goal, currency, n, cm, m in await conn.execute(
            select(c.value, c.goal_id, c.currency, func.sum(c.conversions),
                   func.sum(c.conversion_micros), func.sum(c.revenue_micros))
            .where(*where).group_by(c.value, c.goal_id, c.currency)):
        value_ = value_of(key)
        if goal == wanted:
            if currency == "":
                conversions[value_] += int(n)
            else:
                converted_money[value_].append((currency, cm))
        if goal == NIL_UUID and currency != "":
            all_money[value_].append((currency, m))
    return conversions, converted_money, all_money
