"""Visitors, conversions and revenue per day or hour, in the site's time zone.

Bucket boundaries are computed in Python with zoneinfo, so they fall on local midnights / local
hour marks on both sides of a DST change: a local day is 23 or 25 hours long around one, and the
hour that a spring-forward skips does not exist. The first bucket is the one containing
`range.start` and the last the one containing the instant before `range.end`; only events inside
the range are counted, even when the first and last buckets stick out of it. Every bucket is
returned, empty ones included (zeros, no revenue).

Per bucket: visitors = distinct visitor_id of its events; conversions = its events with
is_conversion; revenue = the sum of all its events' revenue, per currency (the same definitions
as the KPIs). One statement for the counts and one for revenue, whatever the number of buckets:
the boundaries are sent as a derived table and joined by range.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, func, literal, select, union_all

from server.clock import to_datetime, from_datetime
from server.db.engine import Database
from server.db.models import events
from server.errors import InvalidInput
from server.stats.kpis import Money, money_list
from server.stats.ranges import Range

MAX_BUCKETS = 2000
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime  # in the site's time zone
    end: datetime
    visitors: int = 0
    conversions: int = 0
    revenue: list[Money] = field(default_factory=list)


def _floor(instant: datetime, tz: ZoneInfo, interval: str) -> datetime:
    local = instant.astimezone(tz)
    if interval == "DAY":
        # local midnight of that date; a midnight skipped by DST maps to the transition instant
        return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(timezone.utc)
    floored = local.replace(minute=0, second=0, microsecond=0)
    return floored.astimezone(timezone.utc)


def _next(boundary: datetime, tz: ZoneInfo, interval: str) -> datetime:
    if interval == "DAY":
        local = boundary.astimezone(tz)
        nxt = datetime(local.year, local.month, local.day, tzinfo=tz) + timedelta(days=1)
        candidate = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(timezone.utc)
    else:
        candidate = _floor(boundary + HOUR, tz, interval)
    return candidate if candidate > boundary else boundary + HOUR


def bucket_bounds(r: Range, tz_name: str, interval: str) -> list[tuple[datetime, datetime]]:
    """[(start, end)] as aware UTC datetimes covering [r.start, r.end)."""
    if interval not in ("DAY", "HOUR"):
        raise InvalidInput("interval must be DAY or HOUR", field="interval")
    if r.end <= r.start:
        return []
    tz = ZoneInfo(tz_name)
    end = to_datetime(r.end)
    start = _floor(to_datetime(r.start), tz, interval)
    out = []
    while start < end:
        nxt = _next(start, tz, interval)
        out.append((start, nxt))
        if len(out) > MAX_BUCKETS:
            raise InvalidInput(f"at most {MAX_BUCKETS} buckets: use a shorter range or DAY",
                               field="range")
        start = nxt
    return out


async def timeseries(db: Database, *, site_id: uuid.UUID, tz_name: str, range: Range,
                     interval: str, goal_id: uuid.UUID | None = None) -> list[Bucket]:
    """goal_id: only the events that recorded that goal, each a conversion of it (as in
    goalStats), visitors those who recorded it."""
    bounds = bucket_bounds(range, tz_name, interval)
    if not bounds:
        return []
    tz = ZoneInfo(tz_name)
    edges = [(i, max(from_datetime(s), range.start), min(from_datetime(e), range.end))
             for i, (s, e) in enumerate(bounds)]
    # a UNION ALL of one-row SELECTs: portable (SQLite has no column list for VALUES aliases)
    buckets = union_all(*[
        select(literal(i, Integer).label("i"), literal(s, BigInteger).label("b_start"),
               literal(e, BigInteger).label("b_end"))
        for i, s, e in edges
    ]).subquery("buckets")
    join = (events.c.occurred_at >= buckets.c.b_start) & (events.c.occurred_at < buckets.c.b_end)
    where = [events.c.site_id == site_id, events.c.occurred_at >= range.start,
             events.c.occurred_at < range.end]
    converted = case((events.c.is_conversion, 1), else_=0)
    if goal_id is not None:
        where.append(events.c.goal_id == goal_id)
        converted = literal(1, Integer)
    counts = (
        select(buckets.c.i, func.count(events.c.visitor_id.distinct()),
               func.coalesce(func.sum(converted), 0))
        .select_from(events).join(buckets, join).where(*where).group_by(buckets.c.i)
    )
    revenue = (
        select(buckets.c.i, events.c.revenue_currency, func.sum(events.c.revenue_micros))
        .select_from(events).join(buckets, join)
        .where(*where, events.c.revenue_currency.is_not(None))
        .group_by(buckets.c.i, events.c.revenue_currency)
    )
    async with db.read.connect() as conn:
        count_rows = {int(i): (int(v), int(c)) for i, v, c in await conn.execute(counts)}
        money: dict[int, list] = {}
        for i, currency, micros in await conn.execute(revenue):
            money.setdefault(int(i), []).append((currency, micros))
    out = []
    for i, (s, e) in enumerate(bounds):
        v, c = count_rows.get(i, (0, 0))
        out.append(Bucket(s.astimezone(tz), e.astimezone(tz), v, c, money_list(money.get(i, []))))
    return out
