"""Hourly rollups for the read API, maintained at ingestion.

Why: over 1M events a month, `count(DISTINCT visitor_id)` and sums over the raw events take
0.5-1.3 s on PostgreSQL; the reads must answer in tens of milliseconds.

What (tables in server/db/models.py, migration 0002):

* rollup_hourly - per site, UTC hour, goal (NIL_UUID = all the site's events) and currency
  ('' = the counters): events, pageviews, conversions, and revenue_micros per currency. Sums of
  these are exact.
* visitor_sketches - per site, hour and goal (NIL_UUID = the site): a HyperLogLog sketch
  (p = 14, 16,384 registers, stored sparse) of the visitor ids of that hour's events. Distinct
  visitors over many hours are estimated by merging sketches: relative standard error
  1.04 / sqrt(16384) = 0.81 % (linear counting below ~40k visitors is closer still).
* rollup_coverage - the first hour from which a site's rollups are complete.

How reads use them (server/stats/kpis.py): the whole hours of the range from `since_hour` on are
read from the rollups; the partial hours at either end, and any hours before `since_hour`, from
the raw events, exactly. Visitor counts mix the two by adding the raw visitor ids to the merged
sketch. A range without a whole covered hour is answered from the raw events alone (exact).

Maintenance: `apply_batch(conn, events)` in the writer's transaction, after the events are
inserted. A site's coverage starts at the hour after its first batch with the hook; `rebuild`
backfills a site from its stored events (and sets coverage to its first hour).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections import defaultdict
from typing import Iterable

import numpy as np
from sqlalchemy import bindparam, case, delete, func, literal, select, update

from server.clock import HOUR_US, now_us
from server.db.models import events as events_table
from server.db.models import rollup_coverage, rollup_hourly, visitor_sketches
from server.db.upsert import dialect_insert, insert_ignore, insert_or_touch

NIL_UUID = uuid.UUID(int=0)
P = 14
M = 1 << P
_LOW_BITS = 64 - P
_LOW_MASK = (1 << _LOW_BITS) - 1
_PAIR = np.dtype([("i", "<u2"), ("v", "u1")])


def hour_of(us: int) -> int:
    return us - us % HOUR_US


# --------------------------------------------------------------------------- sketches

def register_of(visitor_id: str) -> tuple[int, int]:
    h = int.from_bytes(hashlib.blake2b(visitor_id.encode(), digest_size=8).digest(), "big")
    w = h & _LOW_MASK
    return h >> _LOW_BITS, _LOW_BITS - w.bit_length() + 1


def registers(visitor_ids: Iterable[str]) -> dict[int, int]:
    regs: dict[int, int] = {}
    for v in visitor_ids:
        i, r = register_of(v)
        if r > regs.get(i, 0):
            regs[i] = r
    return regs


def encode(regs: dict[int, int]) -> bytes:
    arr = np.array(sorted(regs.items()), dtype=np.uint32).reshape(-1, 2)
    out = np.empty(len(arr), dtype=_PAIR)
    out["i"], out["v"] = arr[:, 0], arr[:, 1]
    return out.tobytes()


def decode(blob: bytes) -> dict[int, int]:
    arr = np.frombuffer(blob, dtype=_PAIR)
    return dict(zip(arr["i"].tolist(), arr["v"].tolist()))


def merged(blobs: Iterable[bytes], extra_visitors: Iterable[str] = ()) -> np.ndarray:
    regs = np.zeros(M, dtype=np.uint8)
    data = b"".join(blobs)
    if data:
        arr = np.frombuffer(data, dtype=_PAIR)
        np.maximum.at(regs, arr["i"], arr["v"])
    for i, r in registers(extra_visitors).items():
        if r > regs[i]:
            regs[i] = r
    return regs


def estimate(regs: np.ndarray) -> int:
    zeros = int(np.count_nonzero(regs == 0))
    if zeros == M:
        return 0
    alpha = 0.7213 / (1 + 1.079 / M)
    raw = alpha * M * M / float(np.sum(np.ldexp(1.0, -regs.astype(np.int32))))
    if raw <= 2.5 * M and zeros:
        return round(M * math.log(M / zeros))
    return round(raw)


# --------------------------------------------------------------------------- maintenance

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


async def _add_counters(conn, rows: list[tuple]) -> None:
    if not rows:
        return
    names = ("site_id", "hour", "goal_id", "currency", "events", "pageviews", "conversions",
             "revenue_micros")
    stmt = dialect_insert(conn, rollup_hourly)
    ex = stmt.excluded
    c = rollup_hourly.c
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["site_id", "hour", "goal_id", "currency"],
        set_={"events": c.events + ex.events, "pageviews": c.pageviews + ex.pageviews,
              "conversions": c.conversions + ex.conversions,
              "revenue_micros": c.revenue_micros + ex.revenue_micros}),
        [dict(zip(names, r)) for r in rows])


async def _merge_sketches(conn, visitors: dict[tuple, set[str]]) -> None:
    if not visitors:
        return
    keys = sketch_keys(visitors)
    # one statement creates missing rows, locks them (concurrent writers merge one after the
    # other) and reads them
    c = visitor_sketches.c
    rows = await conn.execute(
        insert_or_touch(conn, visitor_sketches, ["site_id", "hour", "goal_id"], "sketch")
        .returning(c.site_id, c.hour, c.goal_id, c.sketch),
        [{"site_id": s, "hour": h, "goal_id": g, "sketch": b""} for s, h, g in keys])
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
                   c.goal_id == bindparam("b_goal"))
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


def counter_rows(batch) -> list[tuple]:
    """The batch's additions to rollup_hourly, in key order: (site_id, hour, goal_id, currency,
    events, pageviews, conversions, revenue_micros)."""
    deltas = _counter_deltas(
        (e.site_id, e.occurred_at, e.type, e.goal.id if e.goal else None,
         bool(e.goal and e.goal.counts_as_conversion), e.revenue_micros, e.revenue_currency)
        for e in batch)
    return [(*k, *d) for k, d in sorted(
        deltas.items(), key=lambda kv: (kv[0][0].bytes, kv[0][1], kv[0][2].bytes, kv[0][3]))]


def visitor_sets(batch) -> dict[tuple, set[str]]:
    """(site_id, hour, goal_id) -> the batch's visitor ids for that sketch."""
    return _visitor_sets(
        (e.site_id, e.occurred_at, e.goal.id if e.goal else None, e.visitor_id) for e in batch)


def sketch_keys(sets: dict[tuple, set[str]]) -> list[tuple]:
    return sorted(sets, key=lambda k: (k[0].bytes, k[1], k[2].bytes))


def merge_into(blob: bytes | None, visitors: set[str]) -> bytes | None:
    """The sketch with these visitors added, or None when it does not change. Vectorised: the
    sketch of a busy hour holds thousands of registers and is merged on every batch."""
    new = registers(visitors)
    if not new:
        return None
    idx = np.fromiter(new.keys(), dtype=np.int64, count=len(new))
    val = np.fromiter(new.values(), dtype=np.uint8, count=len(new))
    order = np.argsort(idx)
    idx, val = idx[order], val[order]
    # plain arrays: the packed 3-byte records are slow to copy and insert into
    stored = np.frombuffer(blob or b"", dtype=_PAIR)
    at, regs = stored["i"].astype(np.int64), stored["v"].astype(np.uint8)
    pos = np.searchsorted(at, idx)
    found = pos < len(at)
    found[found] = at[pos[found]] == idx[found]
    current = np.zeros(len(idx), dtype=np.uint8)
    current[found] = regs[pos[found]]
    higher = val > current
    if not higher.any():
        return None
    raise_at = found & higher
    regs[pos[raise_at]] = val[raise_at]
    new_at = ~found
    if new_at.any():
        at = np.insert(at, pos[new_at], idx[new_at])
        regs = np.insert(regs, pos[new_at], val[new_at])
    out = np.empty(len(at), dtype=_PAIR)
    out["i"], out["v"] = at, regs
    return out.tobytes()


def coverage_rows(batch) -> list[tuple]:
    """(site_id, since_hour) for sites that have no coverage yet: from the next hour on."""
    next_hour = hour_of(now_us()) + HOUR_US
    return [(s, next_hour) for s in sorted({e.site_id for e in batch}, key=lambda s: s.bytes)]


async def apply_batch(conn, batch) -> None:
    """Add a batch of stored ingestion events (server.ingest.event.Event, after the writer gave
    them ids, sessions and goals) to the rollups, in the writer's transaction (SQLAlchemy;
    server/ingest/batch_store_pg.py does the same with asyncpg)."""
    if not batch:
        return
    await _add_counters(conn, counter_rows(batch))
    await _merge_sketches(conn, visitor_sets(batch))
    await conn.execute(insert_ignore(conn, rollup_coverage, [
        {"site_id": s, "since_hour": h} for s, h in coverage_rows(batch)]))


async def rebuild(conn, site_id: uuid.UUID) -> None:
    """Recompute a site's rollups from its stored events (a backfill). Run it while no events
    of the site are being stored, or run it again afterwards."""
    for table in (rollup_hourly, visitor_sketches, rollup_coverage):
        await conn.execute(delete(table).where(table.c.site_id == site_id))
    e = events_table.c
    hour = (e.occurred_at - e.occurred_at % HOUR_US)
    conversion = func.sum(case((e.is_conversion, 1), else_=0))
    # counters with SQL (both databases): site-wide, per currency, per goal, per goal+currency
    queries = [
        select(e.site_id, hour.label("hour"), literal(NIL_UUID, e.site_id.type).label("goal_id"),
               literal("").label("currency"), func.count().label("events"),
               func.sum(case((e.type == "pageview", 1), else_=0)),
               conversion, literal(0))
        .where(e.site_id == site_id).group_by(e.site_id, hour),
        select(e.site_id, hour, literal(NIL_UUID, e.site_id.type), e.revenue_currency,
               literal(0), literal(0), literal(0), func.sum(e.revenue_micros))
        .where(e.site_id == site_id, e.revenue_currency.is_not(None))
        .group_by(e.site_id, hour, e.revenue_currency),
        select(e.site_id, hour, e.goal_id, literal(""), func.count(), literal(0), conversion,
               literal(0))
        .where(e.site_id == site_id, e.goal_id.is_not(None)).group_by(e.site_id, hour, e.goal_id),
        select(e.site_id, hour, e.goal_id, e.revenue_currency, literal(0), literal(0),
               literal(0), func.sum(e.revenue_micros))
        .where(e.site_id == site_id, e.goal_id.is_not(None), e.revenue_currency.is_not(None))
        .group_by(e.site_id, hour, e.goal_id, e.revenue_currency),
    ]
    columns = ["site_id", "hour", "goal_id", "currency", "events", "pageviews", "conversions",
               "revenue_micros"]
    for query in queries:
        await conn.execute(rollup_hourly.insert().from_select(columns, query))
    # sketches in Python, streamed
    sets: dict[tuple, set[str]] = defaultdict(set)
    first = None
    result = await conn.stream(
        select(e.site_id, e.occurred_at, e.goal_id, e.visitor_id).where(e.site_id == site_id))
    async for part in result.partitions(50_000):
        for key, value in _visitor_sets(part).items():
            sets[key] |= value
            first = key[1] if first is None else min(first, key[1])
    rows = [{"site_id": k[0], "hour": k[1], "goal_id": k[2],
             "sketch": encode(registers(v))} for k, v in sets.items()]
    for start in range(0, len(rows), 5000):
        await conn.execute(visitor_sketches.insert(), rows[start:start + 5000])
    await conn.execute(rollup_coverage.insert().values(
        site_id=site_id, since_hour=0 if first is None else first))


# --------------------------------------------------------------------------- reading

async def coverage(conn, site_id: uuid.UUID) -> int | None:
    return (await conn.execute(select(rollup_coverage.c.since_hour)
                               .where(rollup_coverage.c.site_id == site_id))).scalar()


def split(start: int, end: int, since: int | None) -> tuple[tuple[int, int] | None,
                                                          list[tuple[int, int]]]:
    """[start, end) -> (whole covered hours [h0, h1) or None, the rest as raw ranges)."""
    if since is None:
        return None, [(start, end)]
    h0 = max(hour_of(start + HOUR_US - 1), since)
    h1 = hour_of(end)
    if h0 >= h1:
        return None, [(start, end)]
    raw = [(a, b) for a, b in ((start, h0), (h1, end)) if a < b]
    return (h0, h1), raw
